import type { TaskCreatedNotice } from "@agentcast/protocol";
import { type RunJobData, runJobOptions, type TaskStore } from "@agentcast/store";
import type { Queue } from "bullmq";
import type { Logger } from "pino";
import { CommandError } from "../commands/command-error.js";

export interface RunServiceOptions {
  tasks: TaskStore;
  queue: Queue<RunJobData>;
  /** Tells the user's sockets (on every pod) about a new task. */
  notifyTaskCreated: (userId: string, notice: TaskCreatedNotice) => void;
  logger: Logger;
}

/** Starts runs — a new task, or a follow-up on the caller's idle task — for sockets and HTTP alike. */
export class RunService {
  constructor(private readonly opts: RunServiceOptions) {}

  /**
   * Creates or claims the task, calls `beforeEnqueue` (a socket joins the room there), then queues
   * the job. If queueing fails the run is marked failed so the task is not left busy.
   */
  async start(
    userId: string,
    text: string,
    taskId: string | undefined,
    beforeEnqueue?: (taskId: string, lastSeq: number) => Promise<void>,
  ): Promise<{ taskId: string; runId: string }> {
    const { tasks, queue } = this.opts;
    let run: { taskId: string; runId: string; lastSeq: number; created?: TaskCreatedNotice };
    if (taskId === undefined) {
      const created = await tasks.createTask(userId, text);
      run = { taskId: created.taskId, runId: created.runId, lastSeq: 0, created };
    } else {
      const res = await tasks.startRun(userId, taskId);
      if (!res.ok) throw new CommandError(res.code);
      run = { taskId, runId: res.runId, lastSeq: res.lastSeq };
    }
    try {
      await beforeEnqueue?.(run.taskId, run.lastSeq);
      const data: RunJobData = { taskId: run.taskId, runId: run.runId, userId, text };
      await queue.add("run", data, runJobOptions(run.runId));
    } catch (err) {
      this.opts.logger.error({ err, taskId: run.taskId, runId: run.runId }, "could not queue run");
      await tasks.abandonRun(run.taskId, run.runId).catch(() => {});
      throw err instanceof CommandError ? err : new CommandError("unavailable", "Could not queue the run; retry shortly");
    }
    if (run.created) this.opts.notifyTaskCreated(userId, run.created);
    this.opts.logger.info({ taskId: run.taskId, runId: run.runId, userId }, "run queued");
    return { taskId: run.taskId, runId: run.runId };
  }
}
