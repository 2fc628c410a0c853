import type { Supervised } from "@agentcast/runtime";
import type { TaskStore } from "@agentcast/store";
import type { Logger } from "pino";

export interface AnswerWatchOptions {
  tasks: TaskStore;
  timeoutMs: number;
  supervisor: Supervised;
  /** An accepted answer no run consumed in time. */
  onTimeout: () => void;
  logger: Logger;
}

/** After an answer is accepted: checks `timeoutMs` later that a run consumed it (else `ack_timeout`). */
export function createAnswerWatch(opts: AnswerWatchOptions): (taskId: string, questionId: string) => void {
  return (taskId, questionId) => {
    const check = async () => {
      if (!(await opts.tasks.isAnswerPending(taskId, questionId))) return;
      opts.onTimeout();
      opts.logger.warn({ taskId, questionId, afterMs: opts.timeoutMs }, "user_response not consumed by any run");
    };
    setTimeout(() => opts.supervisor.run("answer_watch", check, { taskId, questionId }), opts.timeoutMs).unref();
  };
}
