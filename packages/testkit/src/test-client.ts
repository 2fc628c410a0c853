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

  /** Sends a command and resolves with its ack. */
  command<C extends CommandName>(name: C, payload?: CommandPayload<C> | unknown, timeoutMs = 5_000): Promise<Ack<CommandResults[C]>> {
    return this.socket.timeout(timeoutMs).emitWithAck(name, payload) as Promise<Ack<CommandResults[C]>>;
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

  /** Waits until the task's terminal event arrives and returns the task's events received so far. */
  async collectRun(taskId: string, timeoutMs = 30_000): Promise<EventEnvelope[]> {
    await this.waitFor(
      "event",
      (p) => {
        const e = p as EventEnvelope;
        return e.taskId === taskId && (e.type === "agent_completed" || e.type === "agent_error");
      },
      { timeoutMs },
    );
    return this.events(taskId);
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

  private record(name: string, payload: unknown): void {
    const m = { name, payload, at: Date.now() };
    this.received.push(m);
    for (const w of this.waiters) {
      if (w.test(m)) {
        this.waiters.delete(w);
        w.resolve(m);
      }
    }
  }
}
