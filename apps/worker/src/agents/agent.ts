/** What an agent sees of its run. Every method publishes through the run rules. */
export interface AgentContext {
  readonly input: string;
  readonly taskId: string;
  readonly runId: string;
  readonly userId: string;
  /** Aborted when the user cancels the run. */
  readonly signal: AbortSignal;
  /** A whole thought (`agent_thinking { text }`). */
  thinking(text: string): Promise<void>;
  /**
   * Reasoning streamed token by token (`agent_thinking { delta }`): merged with its neighbours like
   * `output`. Resolves once buffered (or, when the buffer is full, once it is published).
   */
  thinkingDelta(delta: string): Promise<void>;
  progress(percent: number, message: string): Promise<void>;
  /**
   * Streams part of the answer (`agent_output { delta }`). Consecutive deltas are merged into one event
   * per OUTPUT_COALESCE_MS window (or OUTPUT_COALESCE_MAX_BYTES); any other event publishes them first.
   * Resolves once buffered (or, when the buffer is full, once it is published).
   */
  output(delta: string): Promise<void>;
  /** Runs `fn` as a tool call: tool_executing, then tool_completed with ok/result/error and duration. */
  tool<T>(tool: string, args: Record<string, unknown>, fn: () => Promise<T> | T): Promise<T>;
  /** Asks the user (agent_question) and resolves with their `user_response`. */
  ask(prompt: string): Promise<string>;
  /** A pause that ends early (rejecting) when the run is cancelled. */
  sleep(ms: number): Promise<void>;
}

export interface AgentResult {
  result?: unknown;
}

export interface Agent {
  readonly name: string;
  /** Tool names this agent uses (bounds the `tool` metric label; others count as "other"). */
  readonly tools?: readonly string[];
  run(ctx: AgentContext): Promise<AgentResult>;
}

/** Thrown by an agent to end its run with `agent_error { code, message, retryable }`. */
export class AgentFailure extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly retryable = false,
  ) {
    super(message);
    this.name = "AgentFailure";
  }
}

/** The run was cancelled by its user. */
export class RunCancelled extends Error {
  constructor() {
    super("run cancelled");
    this.name = "RunCancelled";
  }
}

/** The worker is shutting down and its drain deadline passed. */
export class WorkerShutdown extends Error {
  constructor() {
    super("worker shutting down");
    this.name = "WorkerShutdown";
  }
}

/** The run has ended (its terminal event is published): an agent call made after that is refused. */
export class RunEnded extends Error {
  constructor() {
    super("run ended");
    this.name = "RunEnded";
  }
}

/** The watchdog ended the run: no event for longer than the stall timeout. */
export class RunStalled extends Error {
  constructor(readonly idleMs: number) {
    super(`no event for ${idleMs} ms`);
    this.name = "RunStalled";
  }
}
