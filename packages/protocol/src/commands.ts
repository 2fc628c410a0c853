import { z } from "zod";
import { type ErrorBody, errorBody } from "./errors.js";
import { ID_PATTERN } from "./rooms.js";

const MAX_TEXT_CHARS = 16_384;

/**
 * Limits on command payloads (documented in docs/protocol.md). A "character" is a Unicode code point
 * (an emoji is one character, though JavaScript's `length` counts it as two); zod's `max` counts them so.
 */
export const LIMITS = {
  /** `user_message.text` and `POST /v1/tasks` text as sent (before trimming), in characters. */
  maxTextChars: MAX_TEXT_CHARS,
  /** `user_response.response`, in characters. */
  maxResponseChars: 16_384,
  /** Largest Socket.IO message the gateway accepts (maxHttpBufferSize), in bytes. */
  maxMessageBytes: 1_048_576,
  /**
   * Largest `POST /v1/tasks` body, in bytes: every field at its limit with every character written as a
   * JSON `\u` escape (12 bytes for a character outside the BMP, a surrogate pair) takes 197,509 bytes;
   * the rest is room for whitespace. Any body whose fields are within their limits fits.
   */
  maxRequestBodyBytes: 12 * MAX_TEXT_CHARS + 8_192,
  /** Events per page for replay reads and `GET /v1/tasks/:id/events`. */
  maxEventsPerPage: 1_000,
} as const;

const id = z.string().regex(ID_PATTERN, "must be 1-64 characters of A-Z a-z 0-9 _ -");

export const commandSchemas = {
  user_message: z.strictObject({
    // The limit applies to the text as sent (so it also bounds the body); trimmed, it must not be empty.
    text: z.string().max(LIMITS.maxTextChars).trim().min(1, "must not be empty"),
    taskId: id.optional(),
    /** The client's id for this message: resending it (same id) never starts a second run. */
    messageId: id.optional(),
  }),
  subscribe: z.strictObject({
    taskId: id,
    sinceSeq: z.number().int().nonnegative().optional(),
    /** The `id` of your event at `sinceSeq`: the gateway checks history still has it there (else `task_reset`). */
    sinceId: z.string().min(1).max(128).optional(),
  }),
  unsubscribe: z.strictObject({ taskId: id }),
  cancel: z.strictObject({ taskId: id }),
  user_response: z.strictObject({
    taskId: id,
    questionId: z.string().regex(/^[A-Za-z0-9_-]{1,128}$/),
    response: z.string().max(LIMITS.maxResponseChars),
  }),
  /** A fresh token for this connection (same `sub`), before the current one expires. */
  auth_refresh: z.strictObject({ token: z.string().min(1).max(8_192) }),
  /** A client saw seq jump from `expectedSeq - 1` to `gotSeq`: counted and logged by the gateway. */
  report_gap: z.strictObject({
    taskId: id,
    expectedSeq: z.number().int().positive(),
    gotSeq: z.number().int().nonnegative(),
  }),
  /** Any object (or nothing) is accepted, so clients may attach their own fields. */
  ping: z.union([z.undefined(), z.null(), z.looseObject({})]),
} as const;

/**
 * The one answer to a payload that fails its schema, for the socket and the HTTP API alike: a string
 * or list longer than its limit is `payload_too_large`; anything else — including a number out of
 * range — is `invalid_payload` (message: up to three `path: problem` entries).
 */
export function payloadErrorOf(error: z.ZodError): ErrorBody {
  const describe = (i: z.core.$ZodIssue) => `${i.path.join(".") || "payload"}: ${i.message}`;
  const tooLong = error.issues.find((i) => i.code === "too_big" && SIZE_ORIGINS.has(i.origin));
  if (tooLong) return errorBody("payload_too_large", describe(tooLong));
  return errorBody("invalid_payload", error.issues.slice(0, 3).map(describe).join("; "));
}

const SIZE_ORIGINS: ReadonlySet<string> = new Set(["string", "array", "set", "file"]);

export type CommandName = keyof typeof commandSchemas;
export type CommandPayload<C extends CommandName> = z.infer<(typeof commandSchemas)[C]>;
export const COMMAND_NAMES = Object.keys(commandSchemas) as CommandName[];

export function isCommandName(value: unknown): value is CommandName {
  return typeof value === "string" && Object.hasOwn(commandSchemas, value);
}

/** Successful ack bodies, per command. */
export interface CommandResults {
  user_message: { taskId: string; runId: string; duplicate?: true };
  subscribe: { taskId: string; lastSeq: number; truncated?: true; firstSeq?: number; foldedThrough?: number };
  unsubscribe: { taskId: string };
  cancel: { taskId: string; runId: string };
  user_response: { taskId: string; questionId: string };
  report_gap: { taskId: string };
  auth_refresh: { expiresAt: number | null };
  ping: { ts: number };
}

export type Ack<T> = ({ ok: true } & T) | { ok: false; error: ErrorBody };
export type AckCallback<C extends CommandName> = (ack: Ack<CommandResults[C]>) => void;
