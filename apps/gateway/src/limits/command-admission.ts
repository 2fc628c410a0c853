import { type ErrorBody, errorBody } from "@agentcast/protocol";
import type { Logger } from "pino";
import type { TokenBucket } from "./token-bucket.js";

export type CommandLimit = "commands_per_socket" | "commands_per_user";

/** A command refused by a limit: the same body on a socket (ack / `error` event) and over HTTP (429). */
export type RateLimited = ErrorBody & { code: "rate_limited"; retryAfterMs: number };

export interface CommandAdmissionOptions {
  /** The per-user limit across gateways: 0 when the user may run a command now, else ms until they may. */
  takeUserCommand: (userId: string) => Promise<number>;
  onLimited: (limit: CommandLimit) => void;
  /** The per-user limit could not be checked (a Redis error): the command is admitted (fails open), logged and counted here. */
  onCheckFailed: () => void;
  logger: Logger;
}

/**
 * Admits one command of `userId`, whichever door it came in: the socket's own bucket first (socket
 * commands only), then the user's budget shared by every socket and HTTP request on every gateway.
 * Resolves with null to run the command, or the `rate_limited` error to answer instead.
 */
export type CommandAdmission = (userId: string, socketBucket?: TokenBucket) => Promise<RateLimited | null>;

export function createCommandAdmission(opts: CommandAdmissionOptions): CommandAdmission {
  return async (userId, socketBucket) => {
    const socketWait = socketBucket?.take() ?? 0;
    if (socketWait > 0) return refuse(opts, "commands_per_socket", socketWait);
    let userWait: number;
    try {
      userWait = await opts.takeUserCommand(userId);
    } catch (err) {
      // Fail open: the limit guards against abuse, not correctness. A command that needs Redis fails on
      // its own (`unavailable`); one that does not (ping, unsubscribe) keeps working. Counted, never silent.
      opts.onCheckFailed();
      opts.logger.warn({ err, userId, limit: "commands_per_user" }, "limit check failed; command admitted (fails open)");
      return null;
    }
    return userWait > 0 ? refuse(opts, "commands_per_user", userWait) : null;
  };
}

function refuse(opts: CommandAdmissionOptions, limit: CommandLimit, retryAfterMs: number): RateLimited {
  opts.onLimited(limit);
  return { ...errorBody("rate_limited", `Too many commands; retry in ${retryAfterMs} ms`), code: "rate_limited", retryAfterMs };
}

/** The `Retry-After` header value (whole seconds, rounded up) for a refusal. */
export function retryAfterSeconds(refused: RateLimited): string {
  return String(Math.max(1, Math.ceil(refused.retryAfterMs / 1000)));
}
