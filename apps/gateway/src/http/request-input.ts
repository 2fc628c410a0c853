import type { IncomingMessage } from "node:http";
import { ID_PATTERN } from "@agentcast/protocol";
import { BodyError } from "./respond.js";

/**
 * What an HTTP request carries besides its body — path segments, query parameters, headers — read
 * and checked with the same codes the socket gives for the same mistake: a malformed value is
 * `invalid_payload` (a number out of range too: only sizes are `payload_too_large`).
 */

/**
 * The request's target as a URL, its path always read as a path (`//x/v1/tasks` is not a host), or
 * undefined when it is not an origin-form target at all (`*`, an absolute URL).
 */
export function requestUrl(req: IncomingMessage): URL | undefined {
  const target = req.url ?? "/";
  if (!target.startsWith("/")) return undefined;
  try {
    return new URL(`http://gateway${target}`);
  } catch {
    return undefined;
  }
}

/** A percent-encoded URL path (or one segment of it), decoded; undefined when the encoding is malformed. */
export function decodePathSegment(encoded: string): string | undefined {
  try {
    return decodeURIComponent(encoded);
  } catch {
    return undefined; // e.g. `%E0%A4%A`: it names nothing; a client mistake, never a 500
  }
}

/** A task id from the path (as the router decoded it); not `ID_PATTERN` → `invalid_payload`, as `taskId` in a command. */
export function taskIdParam(taskId: string | undefined): string {
  if (taskId === undefined || !ID_PATTERN.test(taskId))
    throw new BodyError("invalid_payload", "taskId: must be 1-64 characters of A-Z a-z 0-9 _ -");
  return taskId;
}

/** Decimal digits only: no sign, exponent, fraction, hex or whitespace (`Number("")` would be 0). */
const DECIMAL = /^\d{1,16}$/;

/** An integer query parameter in `min`–`max`, or undefined when absent. */
export function optionalIntParam(url: URL, name: string, min: number, max: number): number | undefined {
  const raw = url.searchParams.get(name);
  if (raw === null) return undefined;
  const n = DECIMAL.test(raw) ? Number(raw) : Number.NaN;
  if (!(n >= min && n <= max)) throw new BodyError("invalid_payload", `${name}: must be an integer ${min}-${max}`);
  return n;
}

/** An integer query parameter in `min`–`max`, `fallback` when absent. */
export function intParam(url: URL, name: string, fallback: number, min: number, max: number): number {
  return optionalIntParam(url, name, min, max) ?? fallback;
}

/**
 * The `Idempotency-Key` header as the message id, or the body's `messageId`. A header that is not an
 * id (`ID_PATTERN`), or that names another id than the body's, is refused: ignoring it would start
 * the run again on every retry.
 */
export function messageIdOf(header: string | string[] | undefined, bodyMessageId: string | undefined): string | undefined {
  if (header === undefined) return bodyMessageId;
  if (typeof header !== "string" || !ID_PATTERN.test(header)) {
    throw new BodyError("invalid_payload", "Idempotency-Key: must be 1-64 characters of A-Z a-z 0-9 _ -");
  }
  if (bodyMessageId !== undefined && bodyMessageId !== header) {
    throw new BodyError("invalid_payload", "Idempotency-Key: differs from the body's messageId");
  }
  return header;
}
