/**
 * The LLM token workload: each stream sends `tokens` tokens of 4 bytes at `rate` tokens/s from its own
 * start time. Token i is `i` in base 36 (4 characters), due at `startMs + i * 1000 / rate`, so a client
 * knows from the text alone which token it got, whether one is missing, and how late it arrived.
 */
export const TOKEN_CHARS = 4;

export function tokenText(i: number): string {
  return i.toString(36).padStart(TOKEN_CHARS, "0");
}

export interface TokenSchedule {
  /** Epoch ms at which token 0 is due. */
  startMs: number;
  tokens: number;
  /** Tokens per second. */
  rate: number;
}

export const tokenDueMs = (s: TokenSchedule, i: number) => s.startMs + (i * 1000) / s.rate;

/**
 * One stream, as a provider delivers it: wakes when the next token is due (one timer per wake, like one
 * read per provider chunk) and sends every token due by then, one `emit` per token, awaiting each.
 */
export async function streamTokens(
  s: TokenSchedule,
  emit: (token: string) => Promise<unknown> | undefined,
  sleep: (ms: number) => Promise<void>,
): Promise<void> {
  let i = 0;
  while (i < s.tokens) {
    const due = Math.min(s.tokens, Math.floor(((Date.now() - s.startMs) * s.rate) / 1000) + 1);
    for (; i < due; i++) {
      const p = emit(tokenText(i));
      if (p) await p;
    }
    if (i < s.tokens) await sleep(Math.max(1, Math.ceil(tokenDueMs(s, i) - Date.now())));
  }
}

const DELTA = '"delta":"';
const SEQ = '"seq":';

/** Per-connection token state: the next token expected and the stream's start. */
export interface TokenCursor {
  startMs: number;
  next: number;
  /** agentcast: highest envelope seq seen (a replayed event is not counted twice). */
  seq: number;
}

export interface TokenCounters {
  tokens: number;
  lostTokens: number;
  dupTokens: number;
  frames: number;
  lastRecvUs: number;
}

/**
 * Counts the tokens in one frame (a raw `{"delta":…}`, a Socket.IO `42["e",{"delta":…}]` or an
 * agentcast event envelope, whose delta holds several tokens when coalesced) and records each token's
 * latency (µs) from when it was due to now.
 */
export function countTokens(
  frame: string,
  cursor: TokenCursor,
  rate: number,
  counters: TokenCounters,
  record: (latencyUs: number) => void,
): void {
  const s = frame.indexOf(SEQ);
  const d = frame.indexOf(DELTA);
  if (s >= 0 && (d < 0 || s < d)) {
    const seq = Number(frame.slice(s + SEQ.length, frame.indexOf(",", s)));
    if (seq <= cursor.seq) return;
    cursor.seq = seq;
  }
  if (d < 0) return;
  const a = d + DELTA.length;
  const b = frame.indexOf('"', a);
  const nowUs = (performance.timeOrigin + performance.now()) * 1000;
  counters.frames++;
  counters.lastRecvUs = nowUs;
  for (let k = a; k + TOKEN_CHARS <= b; k += TOKEN_CHARS) {
    const i = Number.parseInt(frame.slice(k, k + TOKEN_CHARS), 36);
    if (i < cursor.next) {
      counters.dupTokens++;
      continue;
    }
    if (i > cursor.next) counters.lostTokens += i - cursor.next;
    cursor.next = i + 1;
    counters.tokens++;
    record(Math.max(0, nowUs - (cursor.startMs + (i * 1000) / rate) * 1000));
  }
}
