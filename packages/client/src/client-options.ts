export interface ClientOptions {
  /** Gateway (or load balancer) URL, e.g. https://agents.example.com */
  url: string;
  /** A fixed token, or… */
  token?: string;
  /** …a function asked for a token on every (re)connect — and again after `token_expired`. */
  getToken?: () => string | Promise<string>;
  /** Default ["websocket", "polling"]: websocket first (no sticky sessions needed), long-polling as fallback. */
  transports?: ("websocket" | "polling")[];
  path?: string;
  /** Reconnect backoff: first delay, cap, and jitter factor (0–1). */
  reconnectDelayMs?: number;
  reconnectDelayMaxMs?: number;
  reconnectJitter?: number;
  /** How long a command waits for its ack (and for a connection first). */
  commandTimeoutMs?: number;
  /** Events kept per task for handles opened later. */
  maxEventsPerTask?: number;
  /**
   * Events kept, across all tasks, that arrive before `send` has answered with their task (a run's
   * first events can beat the ack). Past it they are dropped and the task is re-read from history.
   */
  maxEarlyEvents?: number;
  /** Out-of-order events held per task while a gap is repaired; past it they are dropped and the task is re-read from history. */
  maxHeldEventsPerTask?: number;
  /** Attempts of `send` when its answer is lost (timeout, dropped connection); the same messageId each time. */
  sendAttempts?: number;
  /** A `rate_limited` command is sent again after the gateway's hint if that is at most this long… */
  rateLimitMaxWaitMs?: number;
  /** …up to this many times. */
  rateLimitRetries?: number;
}

/** Options with every default filled in (`token` and `getToken` stay optional). */
export type ResolvedOptions = Required<Omit<ClientOptions, "token" | "getToken">> & Pick<ClientOptions, "token" | "getToken">;

export function withDefaults(options: ClientOptions): ResolvedOptions {
  return {
    transports: ["websocket", "polling"],
    path: "/socket.io",
    reconnectDelayMs: 500,
    reconnectDelayMaxMs: 10_000,
    reconnectJitter: 0.5,
    commandTimeoutMs: 10_000,
    maxEventsPerTask: 5_000,
    maxEarlyEvents: 1_000,
    maxHeldEventsPerTask: 1_000,
    sendAttempts: 3,
    rateLimitMaxWaitMs: 15_000,
    rateLimitRetries: 3,
    ...options,
  };
}
