import type {
  Ack,
  CommandName,
  CommandPayload,
  CommandResults,
  ConnectionEstablished,
  EventEnvelope,
  EventType,
} from "@agentcast/protocol";
import { io, type ManagerOptions, type Socket, type SocketOptions } from "socket.io-client";

export interface ReceivedMessage {
  /** Socket.IO event name (`event`, `task_created`, `error`, …). */
  name: string;
  payload: unknown;
  at: number;
}

export interface TestClientOptions {
  url: string;
  token?: string;
  /** Default: websocket only (no sticky sessions needed). */
  transports?: ("websocket" | "polling")[];
  extra?: Partial<ManagerOptions & SocketOptions>;
}

type Waiter = { test: (m: ReceivedMessage) => boolean; resolve: (m: ReceivedMessage) => void };

export interface CollectRunOptions {
  timeoutMs?: number;
  /** Collect this run (default: the task's current run, else the next one to start — see `collectRun`). */
  runId?: string;
}

const isTerminal = (e: EventEnvelope) => e.type === "agent_completed" || e.type === "agent_error";

/**
 * A Socket.IO client for tests: records everything the gateway sends, in order, and waits for
 * what a test expects with a timeout that fails loudly, listing what did arrive.
 */
export class GatewayTestClient {
  readonly socket: Socket;
  readonly received: ReceivedMessage[] = [];
  established: ConnectionEstablished | undefined;
  private readonly waiters = new Set<Waiter>();
  /** Index of the next message `receive()` returns. */
  private cursor = 0;
  /** Per task: the runs this client knows of (user_message acks, events) → their lowest seq seen (Infinity: none yet). */
  private readonly runsByTask = new Map<string, Map<string, number>>();
  /** Runs a `collectRun` already returned. */
  private readonly collected = new Set<string>();

  constructor(opts: TestClientOptions) {
    this.socket = io(opts.url, {
      path: "/socket.io",
      transports: opts.transports ?? ["websocket"],
      autoConnect: false,
      reconnection: false,
      ...(opts.token === undefined ? {} : { auth: { token: opts.token } }),
      ...opts.extra,
    });
    this.socket.onAny((name: string, payload: unknown) => this.record(name, payload));
  }

  /** Connects and resolves with `connection_established`; rejects with the connect_error. */
  async connect(timeoutMs = 5_000): Promise<ConnectionEstablished> {
    const established = this.waitFor("connection_established", undefined, { timeoutMs });
    const failed = new Promise<never>((_, reject) => this.socket.once("connect_error", (err: Error & { data?: unknown }) => reject(err)));
    this.socket.connect();
    const m = await Promise.race([established, failed]);
    this.established = m.payload as ConnectionEstablished;
    return this.established;
  }

  /** The connect_error a refused handshake produces. */
  async connectExpectingError(timeoutMs = 5_000): Promise<Error & { data?: { code?: string; message?: string } }> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error("no connect_error")), timeoutMs);
      this.socket.once("connect_error", (err) => {
        clearTimeout(timer);
        resolve(err as Error & { data?: { code?: string } });
      });
      this.socket.once("connect", () => reject(new Error("connected, but a connect_error was expected")));
      this.socket.connect();
    });
  }

  disconnect(): void {
    this.socket.disconnect();
  }

  /** Sends a command and resolves with its ack (a `user_message` ack tells `collectRun` which run is next). */
  async command<C extends CommandName>(name: C, payload?: CommandPayload<C> | unknown, timeoutMs = 5_000): Promise<Ack<CommandResults[C]>> {
    const ack = (await this.socket.timeout(timeoutMs).emitWithAck(name, payload)) as Ack<CommandResults[C]>;
    if (name === "user_message" && ack.ok) {
      const { taskId, runId } = ack as unknown as CommandResults["user_message"];
      this.noteRun(taskId, runId, Number.POSITIVE_INFINITY);
    }
    return ack;
  }

  /** Sends any event with any arguments and resolves with the ack. */
  raw(name: string, ...args: unknown[]): Promise<unknown> {
    return this.socket.timeout(5_000).emitWithAck(name, ...args);
  }

  /** Agent events received (the `event` Socket.IO event), optionally for one task. */
  events(taskId?: string): EventEnvelope[] {
    return this.received
      .filter((m) => m.name === "event")
      .map((m) => m.payload as EventEnvelope)
      .filter((e) => taskId === undefined || e.taskId === taskId);
  }

  /** The next message the gateway sent (in arrival order), waiting up to `timeoutMs`. */
  async receive(opts: { timeoutMs?: number } = {}): Promise<ReceivedMessage> {
    const next = this.received[this.cursor];
    if (next) {
      this.cursor++;
      return next;
    }
    const timeoutMs = opts.timeoutMs ?? 10_000;
    const m = await new Promise<ReceivedMessage>((resolve, reject) => {
      const waiter: Waiter = {
        test: () => true,
        resolve: (msg) => {
          clearTimeout(timer);
          resolve(msg);
        },
      };
      const timer = setTimeout(() => {
        this.waiters.delete(waiter);
        reject(new Error(`timed out after ${timeoutMs} ms waiting for any message; received: ${this.describe()}`));
      }, timeoutMs);
      this.waiters.add(waiter);
    });
    this.cursor = this.received.indexOf(m) + 1;
    return m;
  }

  /** The next message as `{ event, data }` JSON-safe data (what a JSON-logging test wants). */
  async receiveJson(opts: { timeoutMs?: number } = {}): Promise<{ event: string; data: unknown }> {
    const m = await this.receive(opts);
    return { event: m.name, data: JSON.parse(JSON.stringify(m.payload ?? null)) };
  }

  /** Waits for a message named `name` (already received or future) matching `predicate`. */
  waitFor(
    name: string,
    predicate?: (payload: unknown) => boolean,
    opts: { timeoutMs?: number; fromIndex?: number } = {},
  ): Promise<ReceivedMessage> {
    const test = (m: ReceivedMessage) => m.name === name && (!predicate || predicate(m.payload));
    const found = this.received.slice(opts.fromIndex ?? 0).find(test);
    if (found) return Promise.resolve(found);
    const timeoutMs = opts.timeoutMs ?? 10_000;
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        test,
        resolve: (m) => {
          clearTimeout(timer);
          resolve(m);
        },
      };
      const timer = setTimeout(() => {
        this.waiters.delete(waiter);
        reject(new Error(`timed out after ${timeoutMs} ms waiting for "${name}"; received: ${this.describe()}`));
      }, timeoutMs);
      this.waiters.add(waiter);
    });
  }

  /** Waits for an agent event of `type` (optionally for one task). */
  async waitForEvent(type: EventType, taskId?: string, timeoutMs?: number): Promise<EventEnvelope> {
    const m = await this.waitFor(
      "event",
      (p) => (p as EventEnvelope).type === type && (taskId === undefined || (p as EventEnvelope).taskId === taskId),
      timeoutMs === undefined ? {} : { timeoutMs },
    );
    return m.payload as EventEnvelope;
  }

  /**
   * The events of one run of `taskId`, once its terminal event arrived. Which run: `runId` if given;
   * else the task's latest run this client knows of (from a `user_message` ack or its events) unless
   * an earlier `collectRun` already returned it; else the next run to start (its first event after
   * this call). So `collectRun` after a follow-up collects the follow-up, not the previous run.
   */
  async collectRun(taskId: string, opts: number | CollectRunOptions = {}): Promise<EventEnvelope[]> {
    const { timeoutMs = 30_000, runId } = typeof opts === "number" ? { timeoutMs: opts } : opts;
    const deadline = Date.now() + timeoutMs;
    const known = this.runsByTask.get(taskId) ?? new Map<string, number>();
    // The newest run: the one whose events start latest (a just-acked run without events yet counts as newest).
    const latest = [...known].sort((a, b) => a[1] - b[1]).at(-1)?.[0];
    let target = runId ?? (latest !== undefined && !this.collected.has(latest) ? latest : undefined);
    const fail = (what: string) => (): never => {
      throw new Error(`collectRun(${taskId}): timed out after ${timeoutMs} ms waiting for ${what}; received: ${this.describe()}`);
    };
    if (target === undefined) {
      const before = new Set(known.keys());
      const first = await this.waitFor("event", (p) => (p as EventEnvelope).taskId === taskId && !before.has((p as EventEnvelope).runId), {
        timeoutMs: Math.max(0, deadline - Date.now()),
      }).catch(fail("a new run to start"));
      target = (first.payload as EventEnvelope).runId;
    }
    const run = target;
    await this.waitFor(
      "event",
      (p) => (p as EventEnvelope).taskId === taskId && (p as EventEnvelope).runId === run && isTerminal(p as EventEnvelope),
      { timeoutMs: Math.max(0, deadline - Date.now()) },
    ).catch(fail(`the terminal event of run ${run}`));
    this.collected.add(run);
    return this.events(taskId).filter((e) => e.runId === run);
  }

  /** A short summary of what arrived (for timeout messages). */
  describe(): string {
    if (this.received.length === 0) return "nothing";
    return this.received
      .slice(-40)
      .map((m) => {
        const e = m.payload as Partial<EventEnvelope> | undefined;
        return m.name === "event" ? `event(${e?.type}#${e?.seq})` : m.name;
      })
      .join(", ");
  }

  async [Symbol.asyncDispose](): Promise<void> {
    this.disconnect();
  }

  private noteRun(taskId: string, runId: string, seq: number): void {
    const runs = this.runsByTask.get(taskId) ?? new Map<string, number>();
    runs.set(runId, Math.min(runs.get(runId) ?? Number.POSITIVE_INFINITY, seq));
    this.runsByTask.set(taskId, runs);
  }

  private record(name: string, payload: unknown): void {
    const m = { name, payload, at: Date.now() };
    if (name === "event") {
      const e = payload as Partial<EventEnvelope>;
      if (typeof e.taskId === "string" && typeof e.runId === "string" && typeof e.seq === "number") this.noteRun(e.taskId, e.runId, e.seq);
    }
    this.received.push(m);
    for (const w of this.waiters) {
      if (w.test(m)) {
        this.waiters.delete(w);
        w.resolve(m);
      }
    }
  }
}
