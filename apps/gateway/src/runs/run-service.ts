import { createHash } from "node:crypto";
import type { TaskCreatedNotice } from "@agentcast/protocol";
import type { Supervised } from "@agentcast/runtime";
import type { MessageIds, MessageOutcome, RunJobData, RunQueues, TaskStore } from "@agentcast/store";
import type { Logger } from "pino";
import { CommandError } from "../commands/command-error.js";
import { type QueuedRun, RunRollback } from "./run-rollback.js";

export interface RunServiceOptions {
  tasks: TaskStore;
  queue: RunQueues;
  /** Client message ids: a resent `user_message` with the same `messageId` gets the run it already started. */
  messageIds: MessageIds;
  /** Tells the user's sockets (on every pod) about a new task. */
  notifyTaskCreated: (userId: string, notice: TaskCreatedNotice) => void;
  supervisor: Supervised;
  logger: Logger;
}

export interface RunRequest {
  userId: string;
  text: string;
  /** A follow-up on this task; absent = a new task. */
  taskId?: string | undefined;
  /** With `taskId`: a task that does not exist yet is created under that id (a chat or thread id the client chose). */
  createIfMissing?: boolean;
  /** The client's id for this message: a resend with the same id gets the same run. */
  messageId?: string | undefined;
  /** Called before anything changes (a fresh start only, not a resend): throws to refuse the start. */
  mayFollow?: () => void;
  /**
   * Called once the run's task and start seq are known and before the job exists: a socket follows
   * the task there, so the run's first event reaches it. A throw here starts nothing.
   */
  follow?: (taskId: string, fromSeq: number) => Promise<unknown>;
}

export interface StartedRun {
  taskId: string;
  runId: string;
  /** The message id had already started this run: nothing new was started. */
  duplicate?: true;
}

/** How long a resent message waits for the first one (same messageId) to finish starting its run. */
const CLAIM_WAIT_MS = 3_000;

/**
 * Starts runs — a new task, or a follow-up on the caller's idle task — for sockets and HTTP alike.
 * Order: claim the message id → create the run (task queued) → the caller follows it → record what
 * the message id started → queue the job. Everything before the job exists is undone if a later step
 * fails (the run is rolled back, the id released), so a failed start leaves no run behind; a run
 * whose job exists is recorded under its message id, so a resend never starts a second one.
 */
export class RunService {
  private readonly rollback: RunRollback;

  constructor(private readonly opts: RunServiceOptions) {
    this.rollback = new RunRollback(opts);
  }

  async start(req: RunRequest): Promise<StartedRun> {
    const { userId, messageId } = req;
    if (messageId === undefined) return this.startRun(req);
    const textDigest = createHash("sha256").update(req.text.trim()).digest("base64url").slice(0, 16);
    let earlier = await this.claim(userId, messageId);
    if (earlier && (await this.rollback.wasUndone(earlier))) {
      // Recorded, then undone because its job could not be queued, and the id was not released then.
      await this.opts.messageIds.release(userId, messageId);
      earlier = await this.claim(userId, messageId);
    }
    if (earlier) {
      if (earlier.sentTaskId !== req.taskId || earlier.textDigest !== textDigest) {
        throw new CommandError("invalid_payload", "This messageId was already used for a different message");
      }
      await req.follow?.(earlier.taskId, earlier.fromSeq);
      await this.rollback.ensureQueued({ taskId: earlier.taskId, runId: earlier.runId, userId, text: req.text });
      this.opts.logger.info({ taskId: earlier.taskId, runId: earlier.runId, userId }, "message resent: same run");
      return { taskId: earlier.taskId, runId: earlier.runId, duplicate: true };
    }
    try {
      return await this.startRun(req, (run) =>
        this.opts.messageIds.record(userId, messageId, {
          taskId: run.taskId,
          runId: run.runId,
          fromSeq: run.fromSeq,
          ...(req.taskId === undefined ? {} : { sentTaskId: req.taskId }),
          textDigest,
        }),
      );
    } catch (err) {
      // Nothing was started: free the id so the client's retry can start it (a pending claim lapses on its own).
      await this.opts.messageIds.release(userId, messageId).catch((releaseErr: unknown) => {
        this.opts.logger.warn({ err: releaseErr, userId }, "message id not released; it lapses within 30 s");
      });
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

  /** Creates the run, lets the caller follow it, records it, queues its job; undoes the run if any step fails. */
  private async startRun(req: RunRequest, record?: (run: QueuedRun & { fromSeq: number }) => Promise<void>): Promise<StartedRun> {
    const { userId, text } = req;
    req.mayFollow?.();
    const run = await this.createRun(req);
    try {
      await req.follow?.(run.taskId, run.fromSeq);
      await record?.(run);
      const data: RunJobData = { taskId: run.taskId, runId: run.runId, userId, text };
      await this.opts.queue.add(data);
    } catch (err) {
      if (!(err instanceof CommandError)) this.opts.logger.error({ err, taskId: run.taskId, runId: run.runId }, "could not queue run");
      this.rollback.undo(run);
      throw err instanceof CommandError ? err : new CommandError("unavailable", "Could not queue the run; retry shortly");
    }
    if (run.created) this.opts.notifyTaskCreated(userId, run.created);
    this.opts.logger.info({ taskId: run.taskId, runId: run.runId, userId }, "run queued");
    return { taskId: run.taskId, runId: run.runId };
  }

  private async createRun(req: RunRequest): Promise<QueuedRun & { fromSeq: number; created?: TaskCreatedNotice }> {
    const { tasks } = this.opts;
    if (req.taskId === undefined) {
      const created = await tasks.createTask(req.userId, req.text);
      return { taskId: created.taskId, runId: created.runId, userId: req.userId, fromSeq: 0, created };
    }
    if (req.createIfMissing) {
      const created = await tasks.createTaskWithId(req.userId, req.taskId, req.text);
      if (created) return { taskId: created.taskId, runId: created.runId, userId: req.userId, fromSeq: 0, created };
    }
    let res = await tasks.startRun(req.userId, req.taskId);
    // A run left queued without a job (its gateway failed half-way and could not undo it) is undone now.
    if (!res.ok && res.code === "task_busy" && (await this.rollback.undoIfNeverQueued(req.taskId))) {
      res = await tasks.startRun(req.userId, req.taskId);
    }
    if (!res.ok) throw new CommandError(res.code);
    return { taskId: req.taskId, runId: res.runId, userId: req.userId, fromSeq: res.lastSeq };
  }
}
