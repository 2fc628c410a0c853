/** One earlier run of the task, as `ctx.conversation` gives it to an agent. */
export interface ConversationTurn {
  runId: string;
  /** The user's message that started the run. */
  input: string;
  /** The run's answer: everything it streamed as `agent_output` (cut at the turn bound, see `truncated`). */
  answer: string;
  /** How the run ended. */
  status: "succeeded" | "failed" | "cancelled";
  /** The questions the agent asked during the run, with the user's answers. */
  questions: { prompt: string; answer: string }[];
  /** True when `answer` was cut to the turn bound. */
  truncated?: boolean;
}

/** What an agent sees of its run. Every method publishes through the run rules. */
export interface AgentContext {
  readonly input: string;
  readonly taskId: string;
  readonly runId: string;
  readonly userId: string;
  /**
   * The task's earlier runs, oldest first (not this one): each run's input, answer and the questions it
   * asked with their answers. Stored with the task and bounded (CONVERSATION_MAX_BYTES, oldest turns
   * dropped first), so a follow-up on any worker continues the conversation.
   */
  readonly conversation: readonly ConversationTurn[];
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
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = "AgentFailure";
  }
}
