import { APICallError } from "ai";
import { AgentFailure } from "../context.js";
import { ModelStreamError } from "./ai-sdk-bridge.js";
import { LlmTimeoutError } from "./provider-fetch.js";

/**
 * The `agent_error` codes of the LLM agent (docs/agents.md): what went wrong with the provider, and
 * whether sending the message again may work.
 */
export const LLM_ERROR_CODES = {
  llm_rate_limited: "the provider answered 429 on every attempt (LLM_MAX_RETRIES)",
  llm_unavailable: "the provider answered 5xx, or could not be reached, on every attempt",
  llm_timeout: "the provider did not answer, or its stream stalled, for LLM_TIMEOUT_MS (on every attempt)",
  llm_rejected: "the provider refused the request (4xx other than 429: a bad key, an unknown model, …)",
  llm_bad_response: "the provider's stream broke off or was not a chat-completions stream",
  llm_max_steps: "the model still wanted tools after LLM_MAX_STEPS steps",
} as const;
export type LlmErrorCode = keyof typeof LLM_ERROR_CODES;

const RETRYABLE: Record<LlmErrorCode, boolean> = {
  llm_rate_limited: true,
  llm_unavailable: true,
  llm_timeout: true,
  llm_rejected: false,
  llm_bad_response: true,
  llm_max_steps: false,
};

export function llmFailure(code: LlmErrorCode, message: string, cause?: unknown): AgentFailure {
  return new AgentFailure(code, message, RETRYABLE[code], { cause });
}

/** Finds the first error of a kind in `err`'s cause chain. */
function find<T>(err: unknown, is: (e: unknown) => e is T): T | undefined {
  for (let e: unknown = err, depth = 0; e && depth < 8; e = (e as { cause?: unknown }).cause, depth++) if (is(e)) return e;
  return undefined;
}

/** A provider failure as a coded AgentFailure (the run's `agent_error`). */
export function toLlmFailure(err: unknown): AgentFailure {
  if (err instanceof AgentFailure) return err;
  const inner = err instanceof ModelStreamError ? err.error : err;
  const timeout = find(inner, (e): e is LlmTimeoutError => e instanceof LlmTimeoutError);
  if (timeout) return llmFailure("llm_timeout", timeout.message, err);
  const api = find(inner, (e): e is APICallError => APICallError.isInstance(e));
  if (api?.statusCode === 429) return llmFailure("llm_rate_limited", `the provider is rate limiting: ${api.message}`, err);
  if (api?.statusCode !== undefined && api.statusCode >= 500)
    return llmFailure("llm_unavailable", `the provider failed: ${api.message}`, err);
  if (api?.statusCode !== undefined && api.statusCode >= 400)
    return llmFailure("llm_rejected", `the provider refused the request (${api.statusCode}): ${api.message}`, err);
  const message = inner instanceof Error ? inner.message : String(inner);
  if (
    (api && api.statusCode === undefined) ||
    (/fetch failed|ECONNREFUSED|ECONNRESET|ENOTFOUND/i.test(message) && !/terminated/i.test(message))
  )
    return llmFailure("llm_unavailable", `the provider could not be reached: ${message}`, err);
  return llmFailure("llm_bad_response", `the provider's stream failed: ${message}`, err);
}
