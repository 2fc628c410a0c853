import type { EventEnvelope } from "@agentcast/protocol";

/** A run's text so far: its answer (`agent_output`) and its reasoning (`agent_thinking`), already joined. */
export interface RunText {
  readonly output: string;
  readonly reasoning: string;
}

export const EMPTY_RUN_TEXT: RunText = { output: "", reasoning: "" };

/**
 * Folds one event of a run into its text, so an app never concatenates deltas itself: `agent_output`
 * deltas are appended to `output` (a snapshot from compacted history replaces it: it holds the run's
 * whole text up to its seq); streamed reasoning (`agent_thinking { delta }`) is appended to
 * `reasoning`, and a whole thought (`{ text }`) is added as a paragraph of its own (after a blank line).
 * Other events leave it as is.
 */
export function foldRunText(t: RunText, e: EventEnvelope): RunText {
  if (e.type === "agent_output") return { output: e.data.snapshot ? e.data.delta : t.output + e.data.delta, reasoning: t.reasoning };
  if (e.type !== "agent_thinking") return t;
  if ("delta" in e.data) return { output: t.output, reasoning: e.data.snapshot ? e.data.delta : t.reasoning + e.data.delta };
  return { output: t.output, reasoning: t.reasoning === "" ? e.data.text : `${t.reasoning}\n\n${e.data.text}` };
}
