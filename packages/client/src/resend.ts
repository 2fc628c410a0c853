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
