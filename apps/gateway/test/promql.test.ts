import { readFileSync } from "node:fs";
import { parser } from "@prometheus-io/lezer-promql";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { type Stack, startStack } from "./fixture.js";
import { type MetricFamily, metricFamilyTypes } from "./metrics.js";

type SyntaxNode = ReturnType<typeof parser.parse>["topNode"];
const root = new URL("../../../", import.meta.url);
const read = (path: string) => readFileSync(new URL(path, root), "utf8");
/** Grafana's built-in interval variables, as a duration PromQL accepts. */
const GRAFANA_DURATIONS: Record<string, string> = { __rate_interval: "5m", __interval: "1m", __range: "1h" };
const DEFAULT_LABELS = new Set(["gateway_id", "worker_id", "job", "instance"]);
const COUNTER_FUNCTIONS = new Set(["rate", "irate", "increase", "resets"]);
const GAUGE_FUNCTIONS = new Set(["delta", "idelta", "deriv", "predict_linear", "changes"]);

interface Expr {
  where: string;
  expr: string;
}

/** Dashboard targets and template queries, and the rules of both alert files. */
function expressions(): Expr[] {
  const dash = JSON.parse(read("deploy/grafana/agentcast.json")) as {
    panels: { title: string; targets: { expr: string }[] }[];
    templating: { list: { name: string; query?: { query?: string } | string }[] };
  };
  const out: Expr[] = dash.panels.flatMap((p) => p.targets.map((t) => ({ where: `dashboard "${p.title}"`, expr: t.expr })));
  for (const v of dash.templating.list) {
    const q = typeof v.query === "string" ? v.query : v.query?.query;
    const m = q ? /^label_values\((.+),\s*([a-zA-Z_]\w*)\)$/.exec(q) : null;
    // label_values(selector, label) is Grafana's: check its selector as PromQL and its label via grouping.
    if (m) out.push({ where: `dashboard variable $${v.name}`, expr: `count by (${m[2]}) (${m[1]})` });
  }
  const rule = parse(read("k8s/base/prometheus-rule.yaml")) as { spec: { groups: { rules: { alert: string; expr: string }[] }[] } };
  const plain = parse(read("deploy/prometheus/alerts.yml")) as { groups: { rules: { alert: string; expr: string }[] }[] };
  for (const r of rule.spec.groups.flatMap((g) => g.rules)) out.push({ where: `PrometheusRule ${r.alert}`, expr: r.expr });
  for (const r of plain.groups.flatMap((g) => g.rules)) out.push({ where: `alerts.yml ${r.alert}`, expr: r.expr });
  return out;
}

/** Problems of one expression: syntax errors (lezer-promql, Prometheus's own grammar), then meaning. */
function promqlProblems(source: string, families: Map<string, MetricFamily>): string[] {
  const problems: string[] = [];
  const expr = source.replace(/\$(\w+)|\$\{(\w+)\}/g, (whole, a: string | undefined, b: string | undefined, at: number) => {
    const name = a ?? b ?? "";
    const inString = (source.slice(0, at).match(/"/g)?.length ?? 0) % 2 === 1;
    if (GRAFANA_DURATIONS[name]) return GRAFANA_DURATIONS[name];
    if (!inString) problems.push(`Grafana variable ${whole} outside a string`);
    return whole;
  });
  const tree = parser.parse(expr);
  const text = (n: SyntaxNode) => expr.slice(n.from, n.to);
  tree.iterate({
    enter: (n) => {
      if (n.type.isError) problems.push(`syntax error at ${n.from}: …${expr.slice(Math.max(0, n.from - 20), n.from + 20)}…`);
    },
  });
  if (problems.length > 0) return problems;
  const all = (node: SyntaxNode, name: string): SyntaxNode[] => {
    const found: SyntaxNode[] = [];
    const cursor = node.cursor();
    do if (cursor.name === name) found.push(cursor.node);
    while (cursor.next() && cursor.from < node.to);
    return found.filter((f) => f.from >= node.from && f.to <= node.to);
  };
  const family = (metric: string) => {
    const direct = families.get(metric);
    if (direct) return { name: metric, f: direct, part: "" };
    const m = /^(.*)_(bucket|sum|count)$/.exec(metric);
    const f = m ? families.get(m[1] as string) : undefined;
    return f && (f.type === "histogram" || f.type === "summary") ? { name: m?.[1] as string, f, part: m?.[2] as string } : undefined;
  };
  const top = tree.topNode;
  for (const sel of all(top, "VectorSelector")) {
    const id = sel.getChild("Identifier");
    if (!id) continue;
    const metric = text(id);
    const fam = family(metric);
    if (!fam) {
      problems.push(`${metric}: not a metric the gateway or worker serves`);
      continue;
    }
    for (const matcher of all(sel, "LabelName")) {
      const label = text(matcher);
      const known = DEFAULT_LABELS.has(label) || fam.f.labels.has(label) || (label === "le" && fam.part === "bucket");
      if (!known && fam.f.labels.size > 0) problems.push(`${metric}: has no label "${label}"`);
    }
  }
  for (const call of all(top, "FunctionCall")) {
    const fn = text(call.getChild("FunctionIdentifier") as SyntaxNode);
    const body = call.getChild("FunctionCallBody") as SyntaxNode;
    const metrics = all(body, "VectorSelector").map((s) => text(s.getChild("Identifier") as SyntaxNode));
    for (const metric of metrics) {
      const fam = family(metric);
      if (!fam) continue;
      const counterLike = fam.f.type === "counter" || fam.part !== "";
      if (COUNTER_FUNCTIONS.has(fn) && !counterLike) problems.push(`${fn}(${metric}): ${metric} is a ${fam.f.type}, not a counter`);
      if (GAUGE_FUNCTIONS.has(fn) && fam.f.type === "counter" && fn !== "changes")
        problems.push(`${fn}(${metric}): use rate/increase on counters`);
    }
    if (fn === "histogram_quantile") {
      if (metrics.length === 0 || metrics.some((m) => family(m)?.part !== "bucket")) {
        problems.push(`histogram_quantile over ${metrics.join(", ") || "nothing"}: needs histogram _bucket series`);
      }
      const agg = all(body, "AggregateExpr")[0];
      const by = agg?.getChild("AggregateModifier");
      const grouping = by && text(by).startsWith("by") ? all(by, "LabelName").map(text) : [];
      if (agg && !grouping.includes("le")) problems.push(`histogram_quantile: the aggregation must keep "le" (by (le, …))`);
    }
  }
  return problems;
}

describe("every PromQL expression in the dashboard and alert files parses and means what it says", () => {
  let stack: Stack;
  let families: Map<string, MetricFamily>;
  beforeAll(async () => {
    stack = await startStack({ gateways: 1, workers: 1 });
    const [g, w] = await Promise.all([
      metricFamilyTypes(stack.gateways[0]?.metricsPort ?? 0),
      metricFamilyTypes(stack.workers[0]?.metricsPort ?? 0),
    ]);
    families = new Map([...w, ...g]);
  });
  afterAll(() => stack?.stop());

  it("the checker catches what it is meant to catch", () => {
    const bad: [string, RegExp][] = [
      ["sum(rate(agentcast_gateway_connections_opened_total[5m])", /syntax error/],
      ['agentcast_gateway_connections{gateway_id="a"', /syntax error/],
      ["rat(agentcast_gateway_connections_opened_total[5m])", /syntax error/],
      ["sum(rate(agentcast_gateway_connections[5m]))", /is a gauge, not a counter/],
      ["histogram_quantile(0.99, sum(rate(agentcast_gateway_delivery_lag_seconds_bucket[5m])))", /must keep "le"/],
      ["histogram_quantile(0.99, sum by (le) (rate(agentcast_gateway_delivery_lag_seconds_count[5m])))", /_bucket series/],
      ["rate(agentcast_gateway_conections_total[5m])", /not a metric/],
      ['agentcast_queue_jobs{stat="waiting"}', /no label "stat"/],
      ["sum(rate(agentcast_gateway_events_replayed_total[$interval]))", /outside a string/],
    ];
    for (const [expr, why] of bad) expect(promqlProblems(expr, families).join("; "), expr).toMatch(why);
    expect(
      promqlProblems(
        'sum by (le) (rate(agentcast_gateway_delivery_lag_seconds_bucket{gateway_id=~"$gateway_id"}[$__rate_interval]))',
        families,
      ),
    ).toEqual([]);
  });

  it("dashboard targets, its variable query and both alert files: no problems", () => {
    const exprs = expressions();
    expect(exprs.filter((e) => e.where.startsWith("dashboard ")).length).toBeGreaterThan(15);
    expect(exprs.filter((e) => e.where.startsWith("PrometheusRule")).length).toBeGreaterThanOrEqual(6);
    const problems = exprs.flatMap((e) => promqlProblems(e.expr, families).map((p) => `${e.where}: ${p} in ${e.expr}`));
    expect(problems).toEqual([]);
  });
});
