/**
 * The benchmark event: a 200-byte JSON object `{"delta":"<publishedAtUs>:<n>:<padding>"}`. The same
 * object is the raw ws message, the Socket.IO event argument and agentcast's `agent_output` data.
 * `n` counts events per target (room or task) within one step, from 1.
 */
export const EVENT_BYTES = 200;
const HEAD = '{"delta":"';
const TAIL = '"}';
const PAD = "x".repeat(EVENT_BYTES);

export function eventData(publishedAtUs: number, n: number): { delta: string } {
  const core = `${publishedAtUs}:${n}:`;
  const padLen = Math.max(0, EVENT_BYTES - HEAD.length - TAIL.length - core.length);
  return { delta: core + PAD.slice(0, padLen) };
}

export function eventJson(publishedAtUs: number, n: number): string {
  return JSON.stringify(eventData(publishedAtUs, n));
}

export interface ParsedEvent {
  publishedAtUs: number;
  n: number;
  /** agentcast envelopes only; -1 otherwise. */
  seq: number;
}

const MARK = '"delta":"';
const SEQ = '"seq":';

/** Finds the bench fields in a frame (raw JSON, `42[...]` Socket.IO packet) without parsing the whole of it. */
export function parseFrame(frame: string): ParsedEvent | undefined {
  const i = frame.indexOf(MARK);
  if (i < 0) return undefined;
  const a = i + MARK.length;
  const b = frame.indexOf(":", a);
  const c = frame.indexOf(":", b + 1);
  if (b < 0 || c < 0) return undefined;
  let seq = -1;
  const s = frame.indexOf(SEQ);
  if (s >= 0 && s < i) {
    const e = frame.indexOf(",", s);
    seq = Number(frame.slice(s + SEQ.length, e));
  }
  return { publishedAtUs: Number(frame.slice(a, b)), n: Number(frame.slice(b + 1, c)), seq };
}
