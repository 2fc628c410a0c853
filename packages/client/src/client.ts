import {
  type Ack,
  type ClientToServerEvents,
  type CommandName,
  type CommandResults,
  ERROR_CODES,
  type EventEnvelope,
  isErrorCode,
  type ServerToClientEvents,
  type TaskCreatedNotice,
} from "@agentcast/protocol";
import { io, type Socket } from "socket.io-client";
import { type ClientOptions, type ResolvedOptions, withDefaults } from "./client-options.js";
import { EarlyEvents } from "./early-events.js";
import { AgentcastError } from "./errors.js";
import { type Gap, Resyncs } from "./resyncs.js";
import { afterRateLimits, backoffMs, newMessageId, resendWhileUnanswered } from "./retries.js";
import { TaskHandle } from "./task-handle.js";
import { TaskStream } from "./task-stream.js";
import { TokenRefresh } from "./token-refresh.js";

export type ConnectionState = "connecting" | "connected" | "reconnecting" | "disconnected";
export type { ClientOptions } from "./client-options.js";

/** Tries of a resubscribe refused for a retryable reason, with backoff, before the handle is told (`error`). */
const SUBSCRIBE_ATTEMPTS = 8;

type TypedSocket = Socket<ServerToClientEvents, ClientToServerEvents>;
type ClientEvents = {
  state: ConnectionState;
  task_created: TaskCreatedNotice;
  error: AgentcastError;
};

/**
 * The agentcast client: send messages, follow tasks, answer questions, cancel. It resumes by
 * itself — after any reconnect (network drop, drain, a pod killed) it resubscribes every task with
 * `sinceSeq` = the last seq it delivered, and each event reaches your handles exactly once, in order.
 */
export class AgentcastClient {
  readonly socket: TypedSocket;
  private readonly streams = new Map<string, TaskStream>();
  private readonly handles = new Map<string, Set<TaskHandle>>();
  private readonly early: EarlyEvents;
  private readonly resyncs = new Resyncs((taskId, gap) => this.resyncOnce(taskId, gap));
  /** Tasks this client is unsubscribing from because nobody follows them (one command in flight each). */
  private readonly dropping = new Set<string>();
  private readonly listeners: { [K in keyof ClientEvents]: Set<(v: ClientEvents[K]) => void> } = {
    state: new Set(),
    task_created: new Set(),
    error: new Set(),
  };
  private currentState: ConnectionState = "connecting";
  private everConnected = false;
  private closedByUser = false;
  private authRetries = 0;
  private retryTimer: ReturnType<typeof setTimeout> | undefined;
  private readonly tokenRefresh: TokenRefresh;
  /** The token of the current connection (to schedule auth_refresh before it expires). */
  private currentToken: string | undefined;
  private readonly opts: ResolvedOptions;

  constructor(options: ClientOptions) {
    this.opts = withDefaults(options);
    this.early = new EarlyEvents(this.opts.maxEarlyEvents);
    this.tokenRefresh = new TokenRefresh(this.opts.getToken, async (fresh) => {
      if (this.currentState !== "connected") return false;
      await this.command("auth_refresh", { token: fresh });
      return true;
    });
    const { getToken, token } = this.opts;
    this.socket = io(this.opts.url, {
      path: this.opts.path,
      transports: this.opts.transports,
      tryAllTransports: true,
      reconnectionDelay: this.opts.reconnectDelayMs,
      reconnectionDelayMax: this.opts.reconnectDelayMaxMs,
      randomizationFactor: this.opts.reconnectJitter,
      // Asked on every (re)connect, so a refreshed token is used after token_expired.
      auth: (cb) => {
        Promise.resolve(getToken ? getToken() : token).then(
          (t) => {
            this.currentToken = t;
            cb({ token: t });
          },
          () => cb({}),
        );
      },
    });
    this.socket.on("connection_established", () => this.onEstablished());
    this.socket.on("event", (e) => this.route(e));
    this.socket.on("task_created", (n) => this.emit("task_created", n));
    // History was rewritten under a task (a Redis failover lost events we were given): start it over.
    this.socket.on("task_reset", (n) => this.streams.get(n.taskId)?.reset());
    this.socket.on("disconnect", (reason) => this.onDisconnect(reason));
    this.socket.on("connect_error", (err) => this.onConnectError(err as Error & { data?: { code?: string; message?: string } }));
  }

  get state(): ConnectionState {
    return this.currentState;
  }

  /** `state` changes, `task_created` notices, and fatal `error`s (e.g. an invalid token). */
  on<K extends keyof ClientEvents>(event: K, fn: (v: ClientEvents[K]) => void): () => void {
    this.listeners[event].add(fn);
    return () => this.listeners[event].delete(fn);
  }

  /**
   * Sends a message: a new task, or a follow-up run with `taskId`. The task is followed from here on.
   * It carries a `messageId` (yours, or a random one): if the answer is lost to a dropped connection
   * the message is sent again after reconnecting, and the gateway hands back the run it already started.
   */
  async send(text: string, opts: { taskId?: string; messageId?: string } = {}): Promise<{ taskId: string; runId: string }> {
    const known = opts.taskId ? this.streams.get(opts.taskId) : undefined;
    const messageId = opts.messageId ?? newMessageId();
    const payload = opts.taskId ? { text, taskId: opts.taskId, messageId } : { text, messageId };
    // Until the stream exists, the run's events that arrive are kept for it (bounded; see EarlyEvents).
    const sendId = known ? undefined : this.early.begin(opts.taskId);
    let stream: TaskStream | undefined;
    try {
      const res = await resendWhileUnanswered(() => this.command("user_message", payload), this.opts.sendAttempts);
      // The gateway put this socket in the task room (from the task's lastSeq) before queueing the run:
      // track the task now. A new task starts at 0. A follow-up on a task we did not follow starts where
      // the ack says, or (acks without lastSeq) where the run's own agent_started says — never at 0,
      // which would make the run's first seq look like a gap.
      if (!known) {
        const ackSeq = (res as { lastSeq?: unknown }).lastSeq;
        if (!opts.taskId) stream = this.stream(res.taskId, 0);
        else if (typeof ackSeq === "number") stream = this.stream(res.taskId, ackSeq);
        else stream = this.stream(res.taskId, 0, res.runId);
      }
      return { taskId: res.taskId, runId: res.runId };
    } finally {
      if (sendId !== undefined) this.endSend(sendId, stream);
    }
  }

  /** Follows a task from `sinceSeq` (default 0): history first, then live, every seq once and in order. */
  subscribe(taskId: string, opts: { sinceSeq?: number } = {}): TaskHandle {
    const sinceSeq = opts.sinceSeq ?? 0;
    const isNew = !this.streams.has(taskId);
    const stream = this.stream(taskId, sinceSeq);
    const handle = new TaskHandle(stream, sinceSeq, (h) => this.release(h));
    let set = this.handles.get(taskId);
    if (!set) {
      set = new Set();
      this.handles.set(taskId, set);
    }
    set.add(handle);
    if (isNew && this.currentState === "connected") void this.resubscribe(stream);
    return handle;
  }

  async respond(taskId: string, questionId: string, response: string): Promise<void> {
    await this.command("user_response", { taskId, questionId, response });
  }

  async cancel(taskId: string): Promise<{ runId: string }> {
    const res = await this.command("cancel", { taskId });
    return { runId: res.runId };
  }

  /**
   * What the client holds beyond each task's retained events, for monitoring: events kept for sends
   * not yet answered (at most `maxEarlyEvents`, over `earlyTasks` tasks) and out-of-order events held
   * while gaps are repaired (at most `maxHeldEventsPerTask` per task).
   */
  buffered(): { earlyTasks: number; earlyEvents: number; heldEvents: number } {
    let heldEvents = 0;
    for (const stream of this.streams.values()) heldEvents += stream.heldCount;
    return { earlyTasks: this.early.tasks, earlyEvents: this.early.events, heldEvents };
  }

  /** Closes the connection and every handle. */
  close(): void {
    this.closedByUser = true;
    clearTimeout(this.retryTimer);
    this.tokenRefresh.stop();
    for (const set of this.handles.values()) for (const h of [...set]) h.close();
    this.socket.close();
    this.setState("disconnected");
  }

  /**
   * Sends a command once connected; resolves with the ack body or throws AgentcastError. A command
   * refused as `rate_limited` was not carried out, so it is sent again after the gateway's
   * `retryAfterMs` when that is at most `rateLimitMaxWaitMs` (up to `rateLimitRetries` times).
   */
  async command<C extends CommandName>(name: C, payload: unknown): Promise<CommandResults[C]> {
    return afterRateLimits(() => this.commandOnce(name, payload), this.opts.rateLimitRetries, this.opts.rateLimitMaxWaitMs);
  }

  private async commandOnce<C extends CommandName>(name: C, payload: unknown): Promise<CommandResults[C]> {
    await this.connected();
    let ack: Ack<CommandResults[C]>;
    try {
      // Payloads are validated by the gateway; the untyped socket lets callers send any command shape.
      const untyped = this.socket as unknown as Socket;
      ack = (await untyped.timeout(this.opts.commandTimeoutMs).emitWithAck(name, payload)) as Ack<CommandResults[C]>;
    } catch {
      throw new AgentcastError("timeout", `${name}: no answer within ${this.opts.commandTimeoutMs} ms`, true);
    }
    if (!ack.ok) {
      const code = isErrorCode(ack.error.code) ? ack.error.code : "internal_error";
      throw new AgentcastError(code, ack.error.message, ERROR_CODES[code].retryable, ack.error.retryAfterMs);
    }
    return ack;
  }

  private stream(taskId: string, sinceSeq: number, startRunId?: string): TaskStream {
    let stream = this.streams.get(taskId);
    if (stream) return stream;
    stream = new TaskStream(taskId, sinceSeq, {
      maxRetained: this.opts.maxEventsPerTask,
      maxHeld: this.opts.maxHeldEventsPerTask,
      // A gap the gateway should never produce: report it, then re-read from what we have.
      onGap: (expectedSeq, gotSeq) => void this.resyncs.request(taskId, { expectedSeq, gotSeq }),
      // Nothing past lastSeq was delivered: re-reading from there brings the dropped events back.
      onHeldDropped: () => void this.resyncs.request(taskId),
    });
    if (startRunId) stream.startAtRun(startRunId);
    this.streams.set(taskId, stream);
    // A run's first events can arrive with (or before) the ack: adopt them.
    for (const e of this.early.take(taskId)) stream.accept(e);
    return stream;
  }

  private route(e: EventEnvelope): void {
    const stream = this.streams.get(e.taskId);
    if (stream) stream.accept(e);
    else if (this.early.add(e) === "unexpected") this.dropTask(e.taskId);
  }

  /**
   * A send ended. If events its stream needed were dropped at the `maxEarlyEvents` bound, the stream
   * re-reads the task from what it has. Tasks whose early events no send can own any more are
   * followed by nobody: stop receiving them.
   */
  private endSend(sendId: number, stream: TaskStream | undefined): void {
    const { lossy, forgotten } = this.early.end(sendId);
    if (lossy && stream) void this.resyncs.request(stream.taskId);
    for (const taskId of forgotten) this.dropTask(taskId);
  }

  /**
   * Events arrive for a task no stream follows and no send in flight can own (e.g. a send whose every
   * answer was lost): unsubscribe, so that the gateway stops sending them and a later `subscribe`
   * replays the task from its `sinceSeq` instead of finding the socket already subscribed.
   */
  private dropTask(taskId: string): void {
    if (this.streams.has(taskId) || this.early.followsUp(taskId) || this.dropping.has(taskId)) return;
    if (this.currentState !== "connected") return; // a new connection holds no subscriptions
    this.dropping.add(taskId);
    void this.command("unsubscribe", { taskId })
      .catch(() => {})
      .finally(() => this.dropping.delete(taskId));
  }

  /** Re-reads a followed task from its last seq (after reporting `gap`): unsubscribe, then subscribe from lastSeq. */
  private async resyncOnce(taskId: string, gap: Gap | undefined): Promise<void> {
    const stream = this.streams.get(taskId);
    if (!stream || this.currentState !== "connected") return; // a reconnect resubscribes every stream
    if (gap) await this.command("report_gap", { taskId, ...gap }).catch(() => {});
    await this.command("unsubscribe", { taskId }).catch(() => {});
    await this.resubscribe(stream);
  }

  /**
   * (Re)subscribes a followed task from its last seq. A retryable refusal (timeout, unavailable, …) is
   * tried again with backoff while the task is still followed and the connection is up — a handle
   * must never be left silently without events; after a reconnect `onEstablished` starts over anyway.
   */
  private async resubscribe(stream: TaskStream): Promise<void> {
    for (let attempt = 0; attempt < SUBSCRIBE_ATTEMPTS; attempt++) {
      if (this.closedByUser || this.currentState !== "connected" || this.streams.get(stream.taskId) !== stream) return;
      try {
        const since = stream.lastId === undefined ? {} : { sinceId: stream.lastId };
        const ack = await this.command("subscribe", { taskId: stream.taskId, sinceSeq: stream.lastSeq, ...since });
        if (ack.truncated && ack.firstSeq !== undefined) stream.skipTo(ack.firstSeq - 1);
        if (ack.foldedThrough !== undefined) stream.folded(ack.foldedThrough);
        return;
      } catch (err) {
        const error = err instanceof AgentcastError ? err : new AgentcastError("internal_error", String(err), true);
        if (!error.retryable || attempt === SUBSCRIBE_ATTEMPTS - 1) {
          this.emit("error", error);
          return;
        }
        await new Promise((r) => setTimeout(r, backoffMs(attempt, this.opts.reconnectDelayMs, this.opts.reconnectDelayMaxMs)));
      }
    }
  }

  private release(handle: TaskHandle): void {
    const set = this.handles.get(handle.taskId);
    set?.delete(handle);
    if (set && set.size === 0 && !this.closedByUser) {
      this.handles.delete(handle.taskId);
      this.streams.delete(handle.taskId);
      this.dropTask(handle.taskId);
    }
  }

  private onEstablished(): void {
    this.everConnected = true;
    this.authRetries = 0;
    this.setState("connected");
    this.tokenRefresh.schedule(this.currentToken);
    // A new connection knows nothing of our tasks (including those subscribed before the first
    // connect): resume each from the last seq we delivered.
    for (const stream of this.streams.values()) void this.resubscribe(stream);
  }

  private onDisconnect(reason: string): void {
    if (this.closedByUser) return;
    this.setState("reconnecting");
    // socket.io-client does not retry a disconnect the server asked for (e.g. a slow consumer): we do.
    if (reason === "io server disconnect") this.retryLater(0);
  }

  private onConnectError(err: Error & { data?: { code?: string; message?: string } }): void {
    if (this.closedByUser) return;
    const code = err.data?.code;
    if (err.message === "unauthorized" && code === "token_expired" && this.opts.getToken && this.authRetries < 5) {
      this.setState(this.everConnected ? "reconnecting" : "connecting");
      this.retryLater(this.authRetries++); // getToken is asked again on the next attempt
      return;
    }
    if (err.message === "unauthorized") {
      const c = isErrorCode(code) ? code : "token_invalid";
      this.emit("error", new AgentcastError(c, err.data?.message ?? err.message, false));
      this.close();
      return;
    }
    // Transport errors: socket.io-client's manager retries with backoff by itself.
    this.setState(this.everConnected ? "reconnecting" : "connecting");
  }

  private retryLater(attempt: number): void {
    clearTimeout(this.retryTimer);
    const base = Math.min(this.opts.reconnectDelayMaxMs, this.opts.reconnectDelayMs * 2 ** attempt);
    const delay = base * (1 - this.opts.reconnectJitter / 2 + Math.random() * this.opts.reconnectJitter);
    this.retryTimer = setTimeout(() => {
      if (!this.closedByUser && !this.socket.connected) this.socket.connect();
    }, delay);
  }

  private connected(): Promise<void> {
    if (this.currentState === "connected") return Promise.resolve();
    if (this.currentState === "disconnected") return Promise.reject(new AgentcastError("closed", "the client is closed", false));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        off();
        reject(new AgentcastError("timeout", `not connected within ${this.opts.commandTimeoutMs} ms`, true));
      }, this.opts.commandTimeoutMs);
      const off = this.on("state", (s) => {
        if (s !== "connected" && s !== "disconnected") return;
        clearTimeout(timer);
        off();
        if (s === "connected") resolve();
        else reject(new AgentcastError("closed", "the client is closed", false));
      });
    });
  }

  private setState(state: ConnectionState): void {
    if (state === this.currentState) return;
    this.currentState = state;
    this.emit("state", state);
  }

  private emit<K extends keyof ClientEvents>(event: K, value: ClientEvents[K]): void {
    for (const fn of this.listeners[event]) fn(value);
  }
}

/** Creates a client and starts connecting. */
export function createClient(options: ClientOptions): AgentcastClient {
  return new AgentcastClient(options);
}
