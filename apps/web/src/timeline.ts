import type { EventEnvelope } from "@agentcast/protocol";

export type TimelineRow =
  | { kind: "run"; key: number; input: string; runId: string }
  | { kind: "thinking"; key: number; text: string; streamed?: true }
  | {
      kind: "tool";
      key: number;
      tool: string;
      args: unknown;
      done: boolean;
      ok?: boolean;
      result?: unknown;
      error?: string;
      durationMs?: number;
    }
  | { kind: "output"; key: number; text: string; runId: string }
  | { kind: "question"; key: number; prompt: string }
  | { kind: "completed"; key: number; status: string; result?: unknown }
  | { kind: "error"; key: number; code: string; message: string };

/**
 * Timeline rows from a task's events (already exactly-once and in order): a tool call is one card
 * (args → result, duration), consecutive output deltas are one streaming text. Keys are the seq of
 * the row's first event, so re-rendering the same events never duplicates a row.
 */
export function buildTimeline(events: readonly EventEnvelope[]): TimelineRow[] {
  const rows: TimelineRow[] = [];
  const tools = new Map<string, Extract<TimelineRow, { kind: "tool" }>>();
  for (const e of events) {
    const last = rows[rows.length - 1];
    switch (e.type) {
      case "agent_started":
        rows.push({ kind: "run", key: e.seq, input: e.data.input, runId: e.runId });
        break;
      case "agent_thinking":
        // Streamed reasoning (`delta`) continues the thought it belongs to; a whole thought (`text`) is a row.
        if (!("delta" in e.data)) rows.push({ kind: "thinking", key: e.seq, text: e.data.text });
        else if (last?.kind === "thinking" && last.streamed) last.text += e.data.delta;
        else rows.push({ kind: "thinking", key: e.seq, text: e.data.delta, streamed: true });
        break;
      case "tool_executing": {
        const row = { kind: "tool" as const, key: e.seq, tool: e.data.tool, args: e.data.args, done: false };
        tools.set(`${e.runId}/${e.data.toolCallId}`, row);
        rows.push(row);
        break;
      }
      case "tool_completed": {
        const row = tools.get(`${e.runId}/${e.data.toolCallId}`);
        if (row)
          Object.assign(row, { done: true, ok: e.data.ok, result: e.data.result, error: e.data.error, durationMs: e.data.durationMs });
        break;
      }
      case "agent_output":
        if (e.data.snapshot) {
          // Compacted history: the run's whole text so far replaces what its deltas built.
          for (let i = rows.length - 1; i >= 0; i--) {
            const row = rows[i];
            if (row?.kind === "output" && row.runId === e.runId) rows.splice(i, 1);
          }
          rows.push({ kind: "output", key: e.seq, text: e.data.delta, runId: e.runId });
        } else if (last?.kind === "output" && last.runId === e.runId) last.text += e.data.delta;
        else rows.push({ kind: "output", key: e.seq, text: e.data.delta, runId: e.runId });
        break;
      case "agent_question":
        rows.push({ kind: "question", key: e.seq, prompt: e.data.prompt });
        break;
      case "agent_completed":
        rows.push({ kind: "completed", key: e.seq, status: e.data.status, result: e.data.result });
        break;
      case "agent_error":
        rows.push({ kind: "error", key: e.seq, code: e.data.code, message: e.data.message });
        break;
      default:
        break; // progress is shown by the progress bar
    }
  }
  return rows;
}
