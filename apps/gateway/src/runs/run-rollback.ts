import type { Supervised } from "@agentcast/runtime";
import type { MessageOutcome, RunJobData, RunQueues, TaskStore } from "@agentcast/store";
import type { Logger } from "pino";

/** A run created in Redis (task queued) whose job may not exist. */
export interface QueuedRun {
  taskId: string;
  runId: string;
  userId: string;
}

/** Longest a healthy gateway takes from creating a run to queueing its job (room confirm, record, enqueue with retries). */
export const START_WINDOW_MS = 30_000;
const UNDO_ATTEMPTS = 6;

/**
 * Undoing runs whose job was never queued, so no task is left `queued` with nothing to run it (it
 * would answer `task_busy` until it expired). A failed start is undone at once, retried with backoff
 * under the supervisor (each failed attempt logged and counted as `abandon_run`); a run that still
 * slipped through — its gateway died half-way, or Redis stayed down — is found and undone when its
 * task is next used.
 */
export class RunRollback {
  private readonly startWindowMs: number;

  constructor(
    private readonly opts: {
      tasks: TaskStore;
      queue: RunQueues;
      supervisor: Supervised;
      logger: Logger;
      /** Default START_WINDOW_MS. */
      startWindowMs?: number;
    },
  ) {
    this.startWindowMs = opts.startWindowMs ?? START_WINDOW_MS;
  }

  /**
   * Undoes a run whose job could not be queued: the task is as it was before the run (a new task is
   * removed). Each attempt runs under the supervisor (a failure is logged and counted as `abandon_run`);
   * a failed attempt is tried again with backoff, up to UNDO_ATTEMPTS.
   */
  undo(run: QueuedRun, attempt = 1): void {
    this.opts.supervisor.run(
      "abandon_run",
      () => this.opts.tasks.abandonRun(run.taskId, run.runId, run.userId),
      { taskId: run.taskId, runId: run.runId, attempt },
      () => {
        if (attempt >= UNDO_ATTEMPTS) {
          this.opts.logger.error({ taskId: run.taskId, runId: run.runId }, "run not undone; it is undone when its task is next used");
          return;
        }
        setTimeout(() => this.undo(run, attempt + 1), 200 * 2 ** attempt).unref();
      },
    );
  }

  /** The task's current run is queued, older than the start window and has no job that can run: undo it. True when undone. */
  async undoIfNeverQueued(taskId: string): Promise<boolean> {
    const task = await this.opts.tasks.getTask(taskId);
    if (task?.status !== "queued" || Date.now() - task.updatedAt < this.startWindowMs) return false;
    if (await this.hasRunnableJob(taskId, task.runId)) return false;
    this.opts.logger.warn({ taskId, runId: task.runId }, "a run was left queued without a job; undoing it");
    return this.opts.tasks.abandonRun(taskId, task.runId, task.userId);
  }

  /** A resent message's run was undone after it was recorded (its job never existed): the message may start afresh. */
  async wasUndone(outcome: MessageOutcome): Promise<boolean> {
    const task = await this.opts.tasks.getTask(outcome.taskId);
    return !task || (task.runId !== outcome.runId && task.lastSeq === outcome.fromSeq);
  }

  /** A resent message's run is current and queued but has no job that can run: queue it. */
  async ensureQueued(job: RunJobData): Promise<void> {
    const task = await this.opts.tasks.getTask(job.taskId);
    if (task?.status !== "queued" || task.runId !== job.runId || (await this.hasRunnableJob(job.taskId, job.runId))) return;
    // A failed add can leave the job's hash without the job being in any list: replace it.
    await (await this.opts.queue.getJob(job.taskId, job.runId))?.remove();
    await this.opts.queue.add(job);
    this.opts.logger.warn({ taskId: job.taskId, runId: job.runId }, "a recorded run had no job; queued it");
  }

  /** The run's job is waiting, delayed or active — not missing, failed, finished, or a hash left by a failed add. */
  private async hasRunnableJob(taskId: string, runId: string): Promise<boolean> {
    const job = await this.opts.queue.getJob(taskId, runId);
    return job !== undefined && RUNNABLE.has(await job.getState());
  }
}

const RUNNABLE = new Set<string>(["waiting", "active", "delayed", "prioritized", "waiting-children"]);
