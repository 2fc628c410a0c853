// The alert rules' own unit tests (deploy/prometheus/alert-tests.yml) run with Prometheus' promtool, and
// shown to fail when the rule they test is broken. Needs promtool (Debian's `prometheus` package; .ci/run
// installs it), no Prometheus server.
import { spawnSync } from "node:child_process";
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { read, rootPath } from "./deploy/files.js";

const TESTS = "deploy/prometheus/alert-tests.yml";

function promtool(testFile: string, cwd: string): { status: number | null; output: string } {
  const res = spawnSync("promtool", ["test", "rules", testFile], { cwd, encoding: "utf8", timeout: 60_000 });
  if (res.error) throw new Error(`promtool: ${res.error.message} (install Debian's prometheus package for promtool; .ci/run does)`);
  return { status: res.status, output: `${res.stdout}${res.stderr}` };
}

/** Runs the rule tests against alerts.yml with `edit` applied to it, in a scratch directory. */
function withEditedRules(edit: (rules: string) => string): { status: number | null; output: string } {
  const dir = mkdtempSync(join(tmpdir(), "agentcast-alert-tests-"));
  try {
    copyFileSync(join(rootPath, TESTS), join(dir, "alert-tests.yml"));
    const rules = read("deploy/prometheus/alerts.yml");
    const edited = edit(rules);
    expect(edited, "the edit changed nothing").not.toBe(rules);
    writeFileSync(join(dir, "alerts.yml"), edited);
    return promtool("alert-tests.yml", dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const NODE_LOST_EXPR = 'max by (gateway_id) (agentcast_redis_cluster_nodes{component="gateway", state="unreachable"}) > 0';

describe("alert rule tests (promtool test rules)", () => {
  it("deploy/prometheus/alert-tests.yml passes against alerts.yml", () => {
    const tests = parse(read(TESTS)) as { rule_files: string[]; tests: { alert_rule_test: { alertname: string }[] }[] };
    expect(tests.rule_files).toEqual(["alerts.yml"]);
    expect(tests.tests.flatMap((t) => t.alert_rule_test.map((a) => a.alertname))).toContain("AgentcastRedisNodeLost");
    const { status, output } = promtool(TESTS, rootPath);
    expect(status, output).toBe(0);
    expect(output).toContain("SUCCESS");
  });

  it.each([
    ["waits 3 minutes instead of 1", (r: string) => r.replace(`${NODE_LOST_EXPR}\n        for: 1m`, `${NODE_LOST_EXPR}\n        for: 3m`)],
    ["fires for workers too", (r: string) => r.replace(NODE_LOST_EXPR, NODE_LOST_EXPR.replace('component="gateway", ', ""))],
    ["fires on a reachable master", (r: string) => r.replace(NODE_LOST_EXPR, NODE_LOST_EXPR.replace('"unreachable"', '"reachable"'))],
  ])("fails when AgentcastRedisNodeLost %s", (_, edit) => {
    const { status, output } = withEditedRules(edit);
    expect(status, output).not.toBe(0);
    expect(output).toContain("AgentcastRedisNodeLost");
  });
});
