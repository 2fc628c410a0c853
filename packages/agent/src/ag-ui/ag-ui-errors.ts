import { AgentFailure } from "../context.js";

/**
 * The `agent_error` codes of the AG-UI agent (AGENT=ag-ui, docs/agents.md): what went wrong with the
 * remote agent, and whether sending the message again may work.
 */
export const AG_UI_ERROR_CODES = {
  ag_ui_unavailable: "the agent answered 5xx or 429, or could not be reached, on every attempt (AGENT_MAX_RETRIES)",
  ag_ui_timeout: "the agent did not answer, or its stream stalled, for AGENT_TIMEOUT_MS",
  ag_ui_rejected: "the agent refused the request (4xx other than 429)",
  ag_ui_bad_response: "the answer was not an event stream, or it ended before RUN_FINISHED",
  ag_ui_invalid_event: "the agent sent an event that is not valid AG-UI, or out of order (nothing of it reached users)",
  ag_ui_run_error: "the agent ended its run with RUN_ERROR",
} as const;
export type AgUiErrorCode = keyof typeof AG_UI_ERROR_CODES;

const RETRYABLE: Record<AgUiErrorCode, boolean> = {
  ag_ui_unavailable: true,
  ag_ui_timeout: true,
  ag_ui_rejected: false,
  ag_ui_bad_response: true,
  ag_ui_invalid_event: false,
  ag_ui_run_error: false,
};

export function agUiFailure(code: AgUiErrorCode, message: string, cause?: unknown): AgentFailure {
  return new AgentFailure(code, message, RETRYABLE[code], { cause });
}
