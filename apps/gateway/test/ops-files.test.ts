import { readFileSync } from "node:fs";
import { SILENT_FAILURE_KINDS } from "@agentcast/runtime";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { type Stack, startStack } from "./fixture.js";
import { metricFamilies } from "./metrics.js";

const root = new URL("../../../", import.meta.url);
const read = (path: string) => readFileSync(new URL(path, root), "utf8");
const METRIC = /\b(agentcast_[a-z_]+|process_[a-z_]+|nodejs_[a-z_0-9]+)\b/g;
const base = (name: string) => name.replace(/_(bucket|sum|count)$/, "");
/** GitHub's heading anchor: lowercase, spaces → "-", punctuation dropped. */
const anchor = (heading: string) =>
  heading
    .toLowerCase()
    .replace(/[^a-z0-9 _-]/g, "")
    .replace(/ /g, "-");

describe("dashboard, alerts and operations doc name only what the code serves", () => {
  let stack: Stack;
  let registered: Set<string>;
  beforeAll(async () => {
    stack = await startStack({ gateways: 1, workers: 1 });
    const [g, w] = await Promise.all([
      metricFamilies(stack.gateways[0]?.metricsPort ?? 0),
      metricFamilies(stack.workers[0]?.metricsPort ?? 0),
    ]);
    registered = new Set([...g, ...w]);
  });
  afterAll(() => stack?.stop());
  const unknown = (exprs: string[]) =>
    exprs.flatMap((e) => [...e.matchAll(METRIC)].map((m) => m[1] as string)).filter((n) => !registered.has(base(n)));

  it("every PromQL expression of the Grafana board names registered metrics", () => {
    const dash = JSON.parse(read("deploy/grafana/agentcast.json")) as {
      uid: string;
      panels: { title: string; targets: { expr: string }[] }[];
    };
    const exprs = dash.panels.flatMap((p) => p.targets.map((t) => t.expr));
    expect(exprs.length).toBeGreaterThan(10);
    expect(unknown(exprs)).toEqual([]);
    expect(dash.uid).toBe("agentcast");
    const all = exprs.join("\n");
    for (const needed of [
      "agentcast_silent_failures_total",
      "agentcast_gateway_delivery_lag_seconds_bucket",
      "agentcast_queue_jobs",
      "agentcast_gateway_connections",
      "agentcast_gateway_redis_up",
      "nodejs_eventloop_lag",
      "process_resident_memory_bytes",
      "agentcast_worker_runs_total",
      "agentcast_redis_cluster_nodes",
      "agentcast_redis_cluster_topology_changes_total",
      "agentcast_redis_cluster_redirections_total",
      "agentcast_redis_cluster_node_errors_total",
    ]) {
      expect(all).toContain(needed);
    }
    expect(exprs.some((e) => e.includes("agentcast_silent_failures_total") && e.includes("kind"))).toBe(true);
  });

  it("every alert has an expr on registered metrics, a severity, a summary and a runbook section in operations.md", () => {
    const rule = parse(read("k8s/base/prometheus-rule.yaml")) as {
      apiVersion: string;
      kind: string;
      spec: {
        groups: {
          rules: { alert: string; expr: string; labels: { severity?: string }; annotations: { summary?: string; runbook_url?: string } }[];
        }[];
      };
    };
    expect([rule.apiVersion, rule.kind]).toEqual(["monitoring.coreos.com/v1", "PrometheusRule"]);
    const rules = rule.spec.groups.flatMap((g) => g.rules);
    const ops = read("docs/operations.md");
    const headings = new Set([...ops.matchAll(/^### (.+)$/gm)].map((m) => anchor(m[1] as string)));
    for (const r of rules) {
      expect(unknown([r.expr]), r.alert).toEqual([]);
      expect(r.labels.severity, r.alert).toBeTruthy();
      expect(r.annotations.summary, r.alert).toBeTruthy();
      const target = r.annotations.runbook_url?.split("#")[1] ?? "";
      expect(headings.has(target), `${r.alert} → #${target}`).toBe(true);
    }
    const names = rules.map((r) => r.alert);
    for (const a of [
      "AgentcastSilentFailures",
      "AgentcastDeliveryLagHigh",
      "AgentcastQueueBacklogGrowing",
      "AgentcastRedisDown",
      "AgentcastStuckRuns",
      "AgentcastGatewayRestarts",
      "AgentcastRedisNodeLost",
    ]) {
      expect(names).toContain(a);
    }
  });

  it("the silent-failure table in operations.md is exactly SILENT_FAILURE_KINDS", () => {
    const ops = read("docs/operations.md");
    const section = ops.slice(ops.indexOf("## Silent failures"), ops.indexOf("## Alerts"));
    const rows = section
      .split("\n")
      .filter((l) => l.startsWith("| `"))
      .map((l) =>
        l
          .split("|")
          .slice(1, -1)
          .map((c) => c.trim()),
      );
    const expected = Object.entries(SILENT_FAILURE_KINDS).map(([kind, k]) => [`\`${kind}\``, k.components.join(", "), k.meaning, k.action]);
    expect(rows).toEqual(expected);
  });

  it("every env var the apps read is documented in operations.md", () => {
    const ops = read("docs/operations.md");
    for (const file of ["apps/gateway/src/config.ts", "apps/worker/src/config.ts", "packages/store/src/redis-config.ts"]) {
      const keys = [...read(file).matchAll(/\/\*\*\s*(?:\* )?([A-Z_]+):/g)].map((m) => m[1] as string);
      expect(keys.length).toBeGreaterThan(4);
      for (const k of keys) expect(ops, `${k} (${file})`).toContain(`\`${k}\``);
    }
  });
});
