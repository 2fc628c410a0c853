import type { EventEnvelope } from "@agentcast/protocol";
import { MarkdownText } from "./markdown-text.js";
import { buildTimeline, type TimelineRow } from "./timeline.js";

const json = (v: unknown) => (v === undefined ? "" : JSON.stringify(v));

/** `model · 55 in / 18 out tokens` from a run's result, when its agent reported them (the LLM agent does). */
function usageOf(result: unknown): string | undefined {
  if (typeof result !== "object" || result === null) return undefined;
  const r = result as { model?: unknown; usage?: { inputTokens?: unknown; outputTokens?: unknown } };
  const parts: string[] = [];
  if (typeof r.model === "string") parts.push(r.model);
  if (typeof r.usage?.inputTokens === "number" && typeof r.usage.outputTokens === "number")
    parts.push(`${r.usage.inputTokens} in / ${r.usage.outputTokens} out tokens`);
  return parts.length > 0 ? parts.join(" · ") : undefined;
}

function Row({ row, live }: { row: TimelineRow; live: boolean }) {
  switch (row.kind) {
    case "run":
      return (
        <li className="row run">
          <span className="tag">Run</span> {row.input}
        </li>
      );
    case "thinking":
      return (
        <li className="row thinking">
          <span className="tag">Thinking</span> {row.text}
        </li>
      );
    case "tool":
      return (
        <li className={`row tool ${row.done ? (row.ok ? "ok" : "failed") : "running"}`} data-testid="tool-card">
          <span className="tag">Tool</span> <strong>{row.tool}</strong> <code>{json(row.args)}</code> →{" "}
          {row.done ? row.ok ? <code>{json(row.result)}</code> : <span className="error">{row.error}</span> : <em>running…</em>}
          {row.done && <span className="duration"> {row.durationMs} ms</span>}
        </li>
      );
    case "output":
      return (
        <li className="row output">
          <span className="tag">Answer</span> <MarkdownText text={row.text} streaming={live} />
        </li>
      );
    case "question":
      return (
        <li className="row question">
          <span className="tag">Question</span> {row.prompt}
        </li>
      );
    case "completed":
      return (
        <li className={`row completed ${row.status}`}>
          <span className="tag">Done</span> {row.status}
          {usageOf(row.result) && <span className="usage"> · {usageOf(row.result)}</span>}
        </li>
      );
    case "error":
      return (
        <li className="row error">
          <span className="tag">Error</span> {row.code}: {row.message}
        </li>
      );
  }
}

/** The run as it streams: one row per step, keyed by seq (no duplicates on re-render or resume). */
export function Timeline({ events }: { events: readonly EventEnvelope[] }) {
  const rows = buildTimeline(events);
  return (
    <ol className="timeline" aria-label="Timeline" aria-live="polite">
      {rows.map((row, i) => (
        <Row key={row.key} row={row} live={i === rows.length - 1} />
      ))}
    </ol>
  );
}
