import { z } from "zod";
import { LIMITS } from "./commands.js";

/**
 * Bodies and answers of the HTTP routes that are not socket commands (docs/protocol.md, "HTTP API").
 * The socket commands' own schemas (`commandSchemas`) validate the HTTP equivalents of commands.
 */
export const READ_TOKEN_LIMITS = {
  /** `ttlSeconds` when the body leaves it out. */
  defaultTtlSeconds: 3_600,
  /** Longest a read token may live: 30 days (a share link), in seconds. */
  maxTtlSeconds: 30 * 24 * 3_600,
} as const;

export const httpBodySchemas = {
  /** `POST /v1/tasks/:taskId/read-tokens`. */
  readToken: z.strictObject({
    ttlSeconds: z.number().int().min(1).max(READ_TOKEN_LIMITS.maxTtlSeconds).default(READ_TOKEN_LIMITS.defaultTtlSeconds),
  }),
  /** `POST /v1/tasks/:taskId/answer`: `user_response` without the task id (it is in the path). */
  answer: z.strictObject({
    questionId: z.string().regex(/^[A-Za-z0-9_-]{1,128}$/),
    response: z.string().max(LIMITS.maxResponseChars),
  }),
  /** `POST /v1/tasks/:taskId/cancel`: no fields (an empty body or `{}`). */
  cancel: z.strictObject({}),
} as const;

/** `POST /v1/tasks/:taskId/read-tokens` → 201 with this. */
export interface ReadTokenResponse {
  id: string;
  /** Opens this task's streams: `?token=` on the SSE endpoints, `auth.token` on Socket.IO. */
  token: string;
  /** Epoch milliseconds. */
  expiresAt: number;
}

/**
 * Frames of `GET /v1/tasks/:taskId/stream` besides the task's events (whose `event:` is the event type):
 * `truncated` first when history no longer reaches the asked seq, `task_reset` when history was
 * rewritten under the stream (a failover), `error` just before the server ends the stream.
 */
export const SSE_CONTROL_EVENTS = ["truncated", "task_reset", "error"] as const;
