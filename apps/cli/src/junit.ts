import type { RunReport } from "@agentcast/run-check";

const esc = (s: string) =>
  s.replace(/[<>&"']/g, (c) => ({ "<": "&lt;", ">": "&gt;", "&": "&amp;", '"': "&quot;", "'": "&apos;" })[c] as string);

/** The probe as a JUnit suite: one test case per check; not-observed checks are skipped, not passed. */
export function toJUnit(report: RunReport, opts: { url: string; durationMs: number; error?: string }): string {
  const cases = report.checks.map((c) => {
    const open = `    <testcase classname="agentcast.probe" name="${esc(c.name)}">`;
    if (c.status === "fail") return `${open}<failure message="${esc(c.detail)}"/></testcase>`;
    if (c.status === "not_observed") return `${open}<skipped message="${esc(c.detail)}"/></testcase>`;
    return `${open}</testcase>`;
  });
  if (opts.error)
    cases.unshift(`    <testcase classname="agentcast.probe" name="probe"><failure message="${esc(opts.error)}"/></testcase>`);
  const failures = report.checks.filter((c) => c.status === "fail").length + (opts.error ? 1 : 0);
  const skipped = report.checks.filter((c) => c.status === "not_observed").length;
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites><testsuite name="agentcast probe ${esc(opts.url)}" tests="${cases.length}" failures="${failures}" skipped="${skipped}" time="${(opts.durationMs / 1000).toFixed(3)}">`,
    ...cases,
    "  </testsuite></testsuites>",
    "",
  ].join("\n");
}
