import { EMPTY_RUN_TEXT, foldRunText } from "@agentcast/client";
import type { EventEnvelope } from "@agentcast/protocol";

export type TaskStatus = "idle" | "running" | "waiting_for_user" | "succeeded" | "failed" | "cancelled";

export interface TaskView {
  status: TaskStatus;
  /** The task's events in seq order — with `useAgentTask`, the newest `maxEvents` of them. */
  events: EventEnvelope[];
  progress: { percent: number; message: string } | null;
  pendingQuestion: { questionId: string; prompt: string } | null;
  /** The latest run's agent_error, if it failed. */
  error: { code: string; message: string; retryable: boolean } | null;
  /** The latest run's answer so far: its `agent_output` deltas joined (render this, not the deltas). */
  output: string;
  /** The latest run's reasoning so far: streamed `agent_thinking` deltas joined, whole thoughts as paragraphs. */
  reasoning: string;
}

/** Everything in a view but its events: what one event can change in O(1). */
export type TaskFields = Omit<TaskView, "events">;

export const EMPTY_VIEW: TaskView = { status: "idle", events: [], progress: null, pendingQuestion: null, error: null, ...EMPTY_RUN_TEXT };

/** Folds one event into the fields (pure; the latest run decides status, progress and question). */
export function reduceFields(view: TaskFields, e: EventEnvelope): TaskFields {
  switch (e.type) {
    case "agent_started":
      return { status: "running", progress: null, pendingQuestion: null, error: null, ...EMPTY_RUN_TEXT };
    case "progress_update":
      return { ...view, progress: { percent: e.data.percent, message: e.data.message } };
    case "agent_question":
      return { ...view, status: "waiting_for_user", pendingQuestion: { questionId: e.data.questionId, prompt: e.data.prompt } };
    case "agent_completed":
      return { ...view, status: e.data.status, pendingQuestion: null };
    case "agent_error":
      return { ...view, status: "failed", pendingQuestion: null, error: e.data };
    case "agent_output":
    case "agent_thinking":
      return {
        ...view,
        ...foldRunText(view, e),
        status: view.status === "waiting_for_user" ? "running" : view.status,
        pendingQuestion: null,
      };
    default:
      return { ...view, status: view.status === "waiting_for_user" ? "running" : view.status, pendingQuestion: null };
  }
}

/**
 * Folds one event into the view (pure). It copies `events`, so folding n events one by one costs
 * O(n²): fine for a handful, not for a stream — `useAgentTask` folds `reduceFields` per event and
 * keeps its events in a bounded buffer instead.
 */
export function reduceTask(view: TaskView, e: EventEnvelope): TaskView {
  const { events, ...fields } = view;
  return { ...reduceFields(fields, e), events: [...events, e] };
}
