import { createHash } from "node:crypto";
import type { TaskCreatedNotice } from "@agentcast/protocol";
import { type MessageIds, type MessageOutcome, type RunJobData, runJobOptions, type TaskStore } from "@agentcast/store";
import type { Queue } from "bullmq";
import type { Logger } from "pino";
import { CommandError } from "../commands/command-error.js";

export interface RunServiceOptions {
  tasks: TaskStore;
  queue: Queue<RunJobData>;
  /** Client message ids: a resent `user_message` with the same `messageId` gets the run it already started. */
  messageIds: MessageIds;
  /** Tells the user's sockets (on every pod) about a new task. */
  notifyTaskCreated: (userId: string, notice: TaskCreatedNotice) => void;
  logger: Logger;
}

export interface StartedRun {
  taskId: string;
  runId: string;
  /** The message id had already started this run: nothing new was started. */
  duplicate?: true;
}

/** How long a resent message waits for the first one (same messageId) to finish starting its run. */
const CLAIM_WAIT_MS = 3_000;

/** Starts runs — a new task, or a follow-up on the caller's idle task — for sockets and HTTP alike. */
export class RunService {
  constructor(private readonly opts: RunServiceOptions) {}

  /**
   * Starts a run like `startNew`, at most once per (user, `messageId`): a message resent with the same
   * id — its ack was lost to a dropped connection — gets the run the first one started, and the
   * resending socket follows that run from its first event (`beforeEnqueue` with the run's start seq).
   */
  async start(
    userId: string,
    text: string,
    taskId: string | undefined,
    beforeEnqueue?: (taskId: string, lastSeq: number) => Promise<void>,
    messageId?: string,
  ): Promise<StartedRun> {
    if (messageId === undefined) return this.startNew(userId, text, taskId, beforeEnqueue);
    const textDigest = createHash("sha256").update(text.trim()).digest("base64url").slice(0, 16);
    const earlier = await this.claim(userId, messageId);
    if (earlier) {
      if (earlier.sentTaskId !== taskId || earlier.textDigest !== textDigest) {
        throw new CommandError("invalid_payload", "This messageId was already used for a different message");
      }
      await beforeEnqueue?.(earlier.taskId, earlier.fromSeq);
      this.opts.logger.info({ taskId: earlier.taskId, runId: earlier.runId, userId }, "message resent: same run");
      return { taskId: earlier.taskId, runId: earlier.runId, duplicate: true };
    }
    let fromSeq = 0;
    try {
      const started = await this.startNew(userId, text, taskId, async (id, lastSeq) => {
        fromSeq = lastSeq;
        await beforeEnqueue?.(id, lastSeq);
      });
      await this.opts.messageIds.record(userId, messageId, {
        taskId: started.taskId,
        runId: started.runId,
        fromSeq,
        ...(taskId === undefined ? {} : { sentTaskId: taskId }),
        textDigest,
      });
      return started;
    } catch (err) {
      await this.opts.messageIds.release(userId, messageId).catch(() => {});
      throw err;
    }
  }

  /** Undefined when this call claimed the id; else what the id already started (waiting while that is in progress). */
  private async claim(userId: string, messageId: string): Promise<MessageOutcome | undefined> {
    const deadline = Date.now() + CLAIM_WAIT_MS;
    for (let i = 0; i < 1_000; i++) {
      const claim = await this.opts.messageIds.claim(userId, messageId);
      if (claim.claimed) return undefined;
      if (claim.outcome) return claim.outcome;
      if (Date.now() > deadline) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new CommandError("unavailable", "The same message is still being started; retry shortly");
  }

  /**
   * Creates or claims the task, calls `beforeEnqueue` (a socket joins the room there), then queues
   * the job. If queueing fails the run is marked failed so the task is not left busy.
   */
  private async startNew(
    userId: string,
    text: string,
    taskId: string | undefined,
    beforeEnqueue?: (taskId: string, lastSeq: number) => Promise<void>,
  ): Promise<StartedRun> {
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
