import { AgentcastError } from "./errors.js";

/** A message id for `user_message.messageId`: 128 random bits (getRandomValues works outside secure contexts too). */
export function newMessageId(): string {
  const bytes = new Uint8Array(16);
  globalThis.crypto.getRandomValues(bytes);
  return `m_${Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("")}`;
}

/**
 * Runs `send` again while its failure means "the answer was lost, not refused" — a timeout or a
 * dropped connection — up to `attempts` times. Safe only for commands the gateway de-duplicates
 * (`user_message` with a `messageId`): a resend gets the run the first attempt started.
 */
export async function resendWhileUnanswered<T>(send: () => Promise<T>, attempts: number): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await send();
    } catch (err) {
      const lost = err instanceof AgentcastError && (err.code === "timeout" || err.code === "unavailable");
      if (!lost || attempt >= attempts) throw err;
    }
  }
}

/**
 * Runs `send` again after a `rate_limited` refusal — the command was not carried out, so sending it
 * again is always safe — when the gateway's `retryAfterMs` is at most `maxWaitMs`, up to `retries` times.
 */
export async function afterRateLimits<T>(send: () => Promise<T>, retries: number, maxWaitMs: number): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await send();
    } catch (err) {
      const wait = err instanceof AgentcastError && err.code === "rate_limited" ? err.retryAfterMs : undefined;
      if (wait === undefined || wait > maxWaitMs || attempt >= retries) throw err;
      await new Promise((r) => setTimeout(r, wait + Math.floor(Math.random() * 50)));
    }
  }
}

/** Exponential backoff with full jitter, bounded by `maxMs`. */
export function backoffMs(attempt: number, baseMs: number, maxMs: number): number {
  return Math.floor(Math.random() * Math.min(maxMs, baseMs * 2 ** attempt)) + 1;
}
