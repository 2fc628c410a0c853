import { type ErrorCode, errorBody } from "@agentcast/protocol";

/** Thrown by a command handler to answer with a coded error. */
export class CommandError extends Error {
  constructor(
    readonly code: ErrorCode,
    message?: string,
  ) {
    super(message ?? errorBody(code).message);
    this.name = "CommandError";
  }
}
