import { BodyError } from "../http/respond.js";

/** Where a resuming client is: the last frame id it has, `<seq>` (every frame of that event) or `<seq>.<n>`. */
export interface FramePosition {
  seq: number;
  n: number;
}

/**
 * The `Last-Event-ID` a resuming stream sent, as our streams write ids (`<seq>`, or `<seq>.<n>` where one event
 * became several frames); undefined without the header. A malformed one is `invalid_payload`.
 */
export function lastEventIdOf(header: string | string[] | undefined): FramePosition | undefined {
  if (header === undefined) return undefined;
  const m = typeof header === "string" ? /^(\d{1,15})(?:\.(\d{1,6}))?$/.exec(header.trim()) : null;
  if (!m) throw new BodyError("invalid_payload", "Last-Event-ID: must be an event id this stream sent (<seq> or <seq>.<n>)");
  return { seq: Number(m[1]), n: m[2] === undefined ? Number.POSITIVE_INFINITY : Number(m[2]) };
}
