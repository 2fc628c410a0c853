import type { EventEnvelope } from "@agentcast/protocol";

export type TaskStatus = "idle" | "running" | "waiting_for_user" | "succeeded" | "failed" | "cancelled";

export interface TaskView {
  status: TaskStatus;
  events: EventEnvelope[];
  progress: { percent: number; message: string } | null;
  pendingQuestion: { questionId: string; prompt: string } | null;
  /** The latest run's agent_error, if it failed. */
  error: { code: string; message: string; retryable: boolean } | null;
}

export const EMPTY_VIEW: TaskView = { status: "idle", events: [], progress: null, pendingQuestion: null, error: null };

/** Folds one event into the view (pure; the latest run decides status, progress and question). */
export function reduceTask(view: TaskView, e: EventEnvelope): TaskView {
  const events = [...view.events, e];
  switch (e.type) {
    case "agent_started":
      return { status: "running", events, progress: null, pendingQuestion: null, error: null };
    case "progress_update":
      return { ...view, events, progress: { percent: e.data.percent, message: e.data.message } };
    case "agent_question":
      return { ...view, events, status: "waiting_for_user", pendingQuestion: { questionId: e.data.questionId, prompt: e.data.prompt } };
    case "agent_completed":
      return { ...view, events, status: e.data.status, pendingQuestion: null };
    case "agent_error":
      return { ...view, events, status: "failed", pendingQuestion: null, error: e.data };
    default:
      return { ...view, events, status: view.status === "waiting_for_user" ? "running" : view.status, pendingQuestion: null };
  }
}
