import type { AgentContext } from "./agent.js";

const WORDS = [
  "the",
  "agent",
  "streams",
  "its",
  "answer",
  "token",
  "by",
  "one",
  "run",
  "at",
  "a",
  "time",
  "and",
  "every",
  "user",
  "sees",
  "it",
  "live",
  "in",
  "order",
];

/**
 * Token `i` (0-based) of the demo's stream: 1–5 characters, like an LLM's tokens (a word piece, a
 * space, punctuation). Deterministic, so a test can rebuild the exact text (`demoStreamText`).
 */
export function demoToken(i: number): string {
  if (i % 12 === 11) return ".\n";
  if (i % 2 === 1) return " ";
  const word = WORDS[(i * 7 + Math.floor(i / 24)) % WORDS.length] as string;
  return word.length > 5 ? word.slice(0, 5) : word;
}

/** The whole text of a `/stream n` run. */
export function demoStreamText(n: number): string {
  let text = "";
  for (let i = 0; i < n; i++) text += demoToken(i);
  return text;
}

/**
 * Streams `n` tokens through `ctx.output` at `perSecond` (1–10,000). One timer per token tops out near
 * 1,000/s, so the timer ticks every 10–100 ms and each tick emits the tokens due by then.
 */
export async function streamTokens(ctx: AgentContext, n: number, perSecond: number): Promise<number> {
  const tickMs = Math.min(100, Math.max(10, Math.floor(1000 / perSecond)));
  const start = Date.now();
  let sent = 0;
  let chars = 0;
  while (sent < n) {
    const due = Math.min(n, Math.floor(((Date.now() - start) * perSecond) / 1000) + 1);
    for (; sent < due; sent++) {
      const token = demoToken(sent);
      await ctx.output(token);
      chars += token.length;
    }
    if (sent < n) await ctx.sleep(tickMs);
  }
  return chars;
}
