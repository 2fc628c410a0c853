import type { RssTrend } from "./rss-sampler.js";
import type { SoakStats } from "./stats.js";

const total = (counts: Record<string, number>) => Object.values(counts).reduce((a, b) => a + b, 0);
const list = (counts: Record<string, number>) =>
  Object.entries(counts)
    .sort((a, b) => b[1] - a[1])
    .map(([k, v]) => `${k} ${v}`)
    .join(", ") || "none";

/** What makes a soak fail: anything lost, doubled, reordered or left hanging. */
export function soakFailures(s: SoakStats): string[] {
  const f: string[] = [];
  if (s.lost > 0) f.push(`${s.lost} events lost`);
  if (s.duplicates > 0) f.push(`${s.duplicates} duplicates`);
  if (s.outOfOrder > 0) f.push(`${s.outOfOrder} out of order`);
  if (s.stalled > 0) f.push(`${s.stalled} runs stalled`);
  if (s.badFramesAnswered < s.badFrames) f.push(`${s.badFrames - s.badFramesAnswered} bad frames without a coded error`);
  if (total(s.runs) === 0) f.push("no run completed");
  return f;
}

export function formatSummary(r: { minutes: number; users: number; elapsedS: number; stats: SoakStats; rss: RssTrend[] }): string {
  const s = r.stats;
  const runs = total(s.runs);
  const rows = [
    ["duration", `${r.elapsedS.toFixed(0)} s (${r.minutes} min requested), ${r.users} users`],
    ["runs", `${runs} (${(runs / r.elapsedS).toFixed(1)}/s): ${list(s.runs)}`],
    ["events received", `${s.eventsReceived} (${(s.eventsReceived / r.elapsedS).toFixed(0)}/s), each checked against its run's history`],
    ["lost / duplicate / out of order", `${s.lost} / ${s.duplicates} / ${s.outOfOrder}`],
    ["stalled runs", String(s.stalled)],
    ["connections opened", `${s.connections}, of which ${s.resumes} resumed a run mid-stream with sinceSeq`],
    ["command errors", list(s.commandErrors)],
    ["bad frames", `${s.badFrames} sent, ${s.badFramesAnswered} answered with a coded error: ${list(s.badFrameCodes)}`],
  ];
  const rssRows = r.rss.map((t) => {
    const first = t.samplesMb[0] ?? 0;
    const last = t.samplesMb.at(-1) ?? 0;
    const max = Math.max(0, ...t.samplesMb);
    return `| ${t.name} | ${first} | ${max} | ${last} | ${t.samplesMb.join(" → ")} | ${t.heapUsedMb.join(" → ")} |`;
  });
  return [
    "| soak | |",
    "| --- | --- |",
    ...rows.map(([k, v]) => `| ${k} | ${v} |`),
    "",
    "| process | RSS first (MB) | max | last | RSS trend | heap used trend (MB) |",
    "| --- | --- | --- | --- | --- | --- |",
    ...rssRows,
    "",
    soakFailures(s).length === 0 ? "PASS: nothing lost, duplicated or out of order" : `FAIL: ${soakFailures(s).join("; ")}`,
  ].join("\n");
}
