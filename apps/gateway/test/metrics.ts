/** Scrapes a Prometheus text endpoint into `name{sorted labels}` → value (labels minus the default id label). */
export async function scrape(port: number): Promise<Map<string, number>> {
  const res = await fetch(`http://127.0.0.1:${port}/metrics`);
  if (res.status !== 200) throw new Error(`/metrics answered ${res.status}`);
  const out = new Map<string, number>();
  for (const line of (await res.text()).split("\n")) {
    if (!line || line.startsWith("#")) continue;
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})?\s+(\S+)$/.exec(line);
    if (!m) continue;
    const labels = (m[2] ?? "")
      .split(/,(?=[a-zA-Z_]\w*=")/)
      .filter((l) => l && !l.startsWith("gateway_id=") && !l.startsWith("worker_id="))
      .sort()
      .join(",");
    out.set(labels ? `${m[1]}{${labels}}` : (m[1] as string), Number(m[3]));
  }
  return out;
}

/** `name{k="v",…}` key for a metric with labels (order-independent). */
export function key(name: string, labels: Record<string, string> = {}): string {
  const parts = Object.entries(labels)
    .map(([k, v]) => `${k}="${v}"`)
    .sort();
  return parts.length ? `${name}{${parts.join(",")}}` : name;
}

/** Value of one series (0 when absent). */
export function value(metrics: Map<string, number>, name: string, labels: Record<string, string> = {}): number {
  return metrics.get(key(name, labels)) ?? 0;
}

/** Names of the metric families an endpoint exposes (from its # TYPE lines). */
export async function metricFamilies(port: number): Promise<Set<string>> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  return new Set([...text.matchAll(/^# TYPE (\S+) /gm)].map((m) => m[1] as string));
}

export interface MetricFamily {
  type: string;
  /** Label names seen on its series (without the process id label). */
  labels: Set<string>;
}

/** Every family an endpoint exposes, with its type and the label names its series carry. */
export async function metricFamilyTypes(port: number): Promise<Map<string, MetricFamily>> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const out = new Map<string, MetricFamily>();
  for (const m of text.matchAll(/^# TYPE (\S+) (\S+)$/gm)) out.set(m[1] as string, { type: m[2] as string, labels: new Set() });
  for (const m of text.matchAll(/^([a-zA-Z_:][\w:]*)\{(.*)\} \S+$/gm)) {
    const name = m[1] as string;
    const family = out.get(name) ?? out.get(name.replace(/_(bucket|sum|count)$/, ""));
    for (const l of (m[2] as string).matchAll(/([a-zA-Z_]\w*)="/g)) family?.labels.add(l[1] as string);
  }
  return out;
}
