import type { CheckStatus, RunReport } from "./validate-run.js";

const MARK: Record<CheckStatus, string> = { pass: "✅ pass", fail: "❌ FAIL", not_observed: "➖ not observed" };

/** The report as a Markdown table — a check that was not observed is never shown as passed. */
export function formatReport(report: RunReport): string {
  const head = `Run ${report.runId ?? "?"} of task ${report.taskId ?? "?"}: ${report.events} events — ${report.ok ? "PASS" : "FAIL"}`;
  const rows = report.checks.map((c) => `| ${c.name} | ${MARK[c.status]} | ${c.detail.replaceAll("|", "\\|")} |`);
  return [head, "", "| check | result | detail |", "| --- | --- | --- |", ...rows].join("\n");
}
