import { useAgentTask } from "@agentcast/react";
import { type FormEvent, useId, useState } from "react";
import { Composer } from "./composer.js";
import { Timeline } from "./timeline-view.js";

const STATUS_LABEL = {
  idle: "waiting for the first event",
  running: "running",
  waiting_for_user: "waiting for your answer",
  succeeded: "succeeded",
  failed: "failed",
  cancelled: "cancelled",
} as const;

/** One task: timeline, progress, the pending question, cancel, final status, follow-ups. */
export function TaskView({ taskId }: { taskId: string }) {
  const task = useAgentTask(taskId);
  const [answer, setAnswer] = useState("");
  const [error, setError] = useState<string | null>(null);
  const answerId = useId();
  const guard = (p: Promise<unknown>) => p.catch((err: unknown) => setError(err instanceof Error ? err.message : String(err)));
  const submitAnswer = (e: FormEvent) => {
    e.preventDefault();
    void guard(task.respond(answer).then(() => setAnswer("")));
  };
  const running = task.status === "running" || task.status === "waiting_for_user";
  return (
    <section className="task" aria-label="Task">
      <header>
        <h2>Task {taskId}</h2>
        <output className={`status status-${task.status}`} aria-label="Status" data-status={task.status}>
          {STATUS_LABEL[task.status]}
        </output>
        {running && (
          <button type="button" onClick={() => void guard(task.cancel())}>
            Cancel
          </button>
        )}
      </header>
      <div className="progress">
        <progress aria-label="Progress" max={100} value={task.progress?.percent ?? 0} />
        <span>{task.progress ? `${task.progress.percent}% — ${task.progress.message}` : ""}</span>
      </div>
      {task.error && (
        <p role="alert" className="error">
          {task.error.code}: {task.error.message}
        </p>
      )}
      {error && (
        <p role="alert" className="error">
          {error}
        </p>
      )}
      <Timeline events={task.events} />
      {task.pendingQuestion && (
        <form className="answer" onSubmit={submitAnswer}>
          <label htmlFor={answerId}>Your answer</label>
          <div className="row">
            <input id={answerId} value={answer} onChange={(e) => setAnswer(e.target.value)} autoComplete="off" />
            <button type="submit">Answer</button>
          </div>
        </form>
      )}
      {!running && <Composer label="Follow up" onSend={async (text) => void (await task.send(text))} />}
    </section>
  );
}
