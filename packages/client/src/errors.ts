import type { ErrorCode } from "@agentcast/protocol";

/** A command answered `{ ok: false }`, or the connection was refused. */
export class AgentcastError extends Error {
  constructor(
    readonly code: ErrorCode | "timeout" | "closed",
    message: string,
    readonly retryable: boolean,
    /** With `rate_limited`: when the same command can succeed. */
    readonly retryAfterMs?: number,
  ) {
    super(message);
    this.name = "AgentcastError";
  }
}
