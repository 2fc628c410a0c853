import { newRunId, newTaskId } from "./ids.js";
import type { Keys } from "./keys.js";
import { type ScriptedRedis, withLuaScripts } from "./lua-scripts.js";
import type { RedisClient } from "./redis-connection.js";
import { refusalOf, StaleRunError } from "./stale-run-error.js";

export type TaskStatus = "queued" | "running" | "succeeded" | "failed" | "cancelled";

export interface TaskRecord {
  taskId: string;
  userId: string;
  status: TaskStatus;
  /** The current (or last) run. */
  runId: string;
  title: string;
  lastSeq: number;
  /** The task's last seq before its current (or last) run started: that run's events follow it. */
  runFromSeq: number;
  /** The id the client gave the current run (an AG-UI `runId`), when it gave one. */
  clientRunId?: string;
  runs: number;
  createdAt: number;
  updatedAt: number;
}

/** Why a task operation was refused; maps 1:1 onto protocol error codes. */
export type TaskRefusal = "not_found" | "forbidden" | "task_busy" | "task_not_running";

export type TaskResult<T> = ({ ok: true } & T) | { ok: false; code: TaskRefusal };

export interface TaskStoreOptions {
  keys: Keys;
  /** Idle lifetime of a task and its history, refreshed at each run's first and last event, at a question, and every 32 events between. */
  historyTtlSeconds: number;
}

const TITLE_CHARS = 80;

/** Tasks and runs in Redis: creation, ownership, busy/idle, cancel and answer hand-off. */
export class TaskStore {
  private readonly redis: ScriptedRedis;
  constructor(
    redis: RedisClient,
    private readonly opts: TaskStoreOptions,
  ) {
    this.redis = withLuaScripts(redis);
  }

  /** Creates a task owned by `userId` with a queued first run. */
  async createTask(userId: string, text: string): Promise<{ taskId: string; runId: string; title: string; createdAt: number }> {
    const created = await this.createTaskWithId(userId, newTaskId(), text);
    if (!created) throw new Error("a fresh task id was taken"); // ids are random: never in practice
    return created;
  }

  /**
   * Creates a task under an id the client chose (a chat id, an AG-UI thread id), owned by `userId`, with a
   * queued first run; undefined when a task with this id exists (whoever owns it).
   */
  async createTaskWithId(
    userId: string,
    taskId: string,
    text: string,
  ): Promise<{ taskId: string; runId: string; title: string; createdAt: number } | undefined> {
    const { keys, historyTtlSeconds } = this.opts;
    const runId = newRunId();
    const createdAt = Date.now();
    const title = text.trim().replace(/\s+/g, " ").slice(0, TITLE_CHARS);
    const order = await this.redis.incr(keys.userTaskCounter(userId));
    const [answer] = await this.redis.acCreateTask(keys.task(taskId), taskId, runId, userId, createdAt, historyTtlSeconds, title, order);
    if (answer === "exists") return undefined;
    await this.redis.zadd(keys.userTasks(userId), order, taskId);
    return { taskId, runId, title, createdAt };
  }

  /** Queues a new run on the caller's own idle task; returns the task's lastSeq before the run. */
  async startRun(userId: string, taskId: string): Promise<TaskResult<{ runId: string; lastSeq: number }>> {
    const runId = newRunId();
    const res = (await this.redis.acStartRun(this.opts.keys.task(taskId), runId, userId, Date.now(), this.opts.historyTtlSeconds)) as [
      string,
      number?,
    ];
    if (res[0] !== "ok") return { ok: false, code: res[0] as TaskRefusal };
    return { ok: true, runId, lastSeq: Number(res[1] ?? 0) };
  }

  /**
   * Undoes a run whose job could not be queued: a follow-up → the task is back to its previous run; a
   * task's first run → the task is removed. False when the run is no longer current and queued.
   */
  async abandonRun(taskId: string, runId: string, userId: string): Promise<boolean> {
    const undone = Number(await this.redis.acAbandonRun(this.opts.keys.task(taskId), runId));
    // The task's first run: the task itself is gone; its user's list is another key (another slot on a cluster).
    if (undone === 2) await this.redis.zrem(this.opts.keys.userTasks(userId), taskId);
    return undone !== 0;
  }

  /**
   * Worker side: takes over a running run whose worker stopped. `owner` becomes the run's owner (the
   * previous execution is fenced off); resolves with the index of the run's next event. Throws
   * StaleRunError when the run is not current, has ended or has not started.
   */
  async claimRun(taskId: string, runId: string, owner: string): Promise<number> {
    const [next] = await this.redis.acClaimRun(this.opts.keys.task(taskId), runId, owner);
    const refused = refusalOf(Number(next));
    if (refused) throw new StaleRunError(refused, taskId, runId);
    return Number(next);
  }

  async getTask(taskId: string): Promise<TaskRecord | undefined> {
    return parseTask(await this.redis.hgetall(this.opts.keys.task(taskId)));
  }

  /** The task if `userId` owns it, else why not. */
  async getOwnedTask(userId: string, taskId: string): Promise<TaskResult<{ task: TaskRecord }>> {
    const task = await this.getTask(taskId);
    if (!task) return { ok: false, code: "not_found" };
    if (task.userId !== userId) return { ok: false, code: "forbidden" };
    return { ok: true, task };
  }

  /** The user's tasks, newest first. `before` is the `nextCursor` of the previous page. */
  async listTasks(userId: string, limit: number, before?: number): Promise<{ tasks: TaskRecord[]; nextCursor: number | null }> {
    const key = this.opts.keys.userTasks(userId);
    const max = before === undefined ? "+inf" : `(${before}`;
    const rows = await this.redis.zrevrangebyscore(key, max, "-inf", "WITHSCORES", "LIMIT", 0, limit);
    const ids: string[] = [];
    const scores: number[] = [];
    for (let i = 0; i < rows.length; i += 2) {
      ids.push(rows[i] as string);
      scores.push(Number(rows[i + 1]));
    }
    // One read per task, not one pipeline: on a cluster each task lives on its own slot (a pipeline must stay on one).
    const records = await Promise.all(ids.map((id) => this.redis.hgetall(this.opts.keys.task(id))));
    const tasks: TaskRecord[] = [];
    const expired: string[] = [];
    records.forEach((value, i) => {
      const task = parseTask(value);
      if (task) tasks.push(task);
      else expired.push(ids[i] as string);
    });
    if (expired.length > 0) await this.redis.zrem(key, ...expired);
    const last = scores[scores.length - 1];
    return { tasks, nextCursor: ids.length === limit && last !== undefined ? last : null };
  }

  async requestCancel(userId: string, taskId: string): Promise<TaskResult<{ runId: string }>> {
    const res = (await this.redis.acRequestCancel(this.opts.keys.task(taskId), userId, this.opts.keys.controlChannel)) as [string, string?];
    if (res[0] !== "ok") return { ok: false, code: res[0] as TaskRefusal };
    return { ok: true, runId: res[1] as string };
  }

  async answerQuestion(userId: string, taskId: string, questionId: string, response: string): Promise<TaskResult<{ runId: string }>> {
    const { keys } = this.opts;
    const res = (await this.redis.acAnswerQuestion(
      keys.task(taskId),
      keys.question(taskId),
      keys.pendingAnswer(taskId),
      userId,
      questionId,
      response,
      keys.controlChannel,
      this.opts.historyTtlSeconds,
    )) as [string, string?];
    if (res[0] !== "ok") return { ok: false, code: res[0] as TaskRefusal };
    return { ok: true, runId: res[1] as string };
  }

  /** Worker side: has a cancel been requested for this run? */
  async isCancelRequested(taskId: string, runId: string): Promise<boolean> {
    return (await this.redis.hget(this.opts.keys.task(taskId), "cancelRequested")) === runId;
  }

  /** Worker side: takes the answer to a question once given (marking it consumed). */
  async consumeAnswer(taskId: string, questionId: string): Promise<string | undefined> {
    const [id, status, response] = await this.redis.hmget(this.opts.keys.question(taskId), "questionId", "status", "response");
    if (id !== questionId || status !== "answered") return undefined;
    await this.redis.del(this.opts.keys.pendingAnswer(taskId));
    return response ?? "";
  }

  /** Records the id the client gave run `runId` (an AG-UI `runId`): a resume answers with it. */
  async setClientRunId(taskId: string, runId: string, clientRunId: string): Promise<void> {
    await this.redis.acSetClientRun(this.opts.keys.task(taskId), runId, clientRunId);
  }

  /** Gateway side: is an accepted answer still waiting for its run to take it? */
  async isAnswerPending(taskId: string, questionId: string): Promise<boolean> {
    return (await this.redis.get(this.opts.keys.pendingAnswer(taskId))) === questionId;
  }
}

function parseTask(h: Record<string, string> | null | undefined): TaskRecord | undefined {
  if (!h || h.taskId === undefined || h.userId === undefined) return undefined;
  return {
    taskId: h.taskId,
    userId: h.userId,
    status: (h.status ?? "queued") as TaskStatus,
    runId: h.runId ?? "",
    title: h.title ?? "",
    lastSeq: Number(h.lastSeq ?? 0),
    runFromSeq: Number(h.runFromSeq ?? 0),
    ...(h.clientRunId !== undefined && h.clientRunFor === h.runId ? { clientRunId: h.clientRunId } : {}),
    runs: Number(h.runs ?? 0),
    createdAt: Number(h.createdAt ?? 0),
    updatedAt: Number(h.updatedAt ?? 0),
  };
}
