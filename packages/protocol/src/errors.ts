/**
 * The one error-code table. Every error a client can see — a refused connection, a failed command,
 * an HTTP error, or an `agent_error` that ends a run — carries one of these codes.
 * `docs/protocol.md` lists the same table; a test fails when the two disagree.
 */
export type ErrorScope = "connect" | "command" | "connection" | "run";

export interface ErrorCodeInfo {
  /** Default human-readable message (a more specific one may be sent). */
  readonly message: string;
  /** Whether retrying the same request later can succeed. */
  readonly retryable: boolean;
  /** Where the code appears: connect_error data, command ack/HTTP error, an `error` event sent just before the server closes the connection, or agent_error data. */
  readonly scopes: readonly ErrorScope[];
  /** HTTP status used when the code answers an HTTP request. */
  readonly httpStatus: number;
}

export const ERROR_CODES = {
  token_missing: {
    message: "No token: pass auth.token or an Authorization: Bearer header",
    retryable: false,
    scopes: ["connect", "command"],
    httpStatus: 401,
  },
  token_invalid: {
    message: "The token is malformed, its signature or algorithm is not accepted, or a claim is wrong",
    retryable: false,
    scopes: ["connect", "command", "connection"],
    httpStatus: 401,
  },
  token_expired: {
    message: "The token has expired; get a fresh one and reconnect",
    retryable: true,
    scopes: ["connect", "command", "connection"],
    httpStatus: 401,
  },
  invalid_payload: {
    message: "The payload does not match the command's schema",
    retryable: false,
    scopes: ["command"],
    httpStatus: 400,
  },
  payload_too_large: {
    message: "A field or the whole payload is larger than the documented limit",
    retryable: false,
    scopes: ["command"],
    httpStatus: 413,
  },
  unknown_event: {
    message: "Unknown event name; clients may only send the documented commands",
    retryable: false,
    scopes: ["command"],
    httpStatus: 404,
  },
  forbidden: {
    message: "This task belongs to another user",
    retryable: false,
    scopes: ["command"],
    httpStatus: 403,
  },
  not_found: {
    message: "No such task, or no such open question",
    retryable: false,
    scopes: ["command"],
    httpStatus: 404,
  },
  task_busy: {
    message: "The task already has a queued or running run; wait for its terminal event",
    retryable: true,
    scopes: ["command"],
    httpStatus: 409,
  },
  task_not_running: {
    message: "The task has no queued or running run to cancel",
    retryable: false,
    scopes: ["command"],
    httpStatus: 409,
  },
  rate_limited: {
    message: "Too many requests; retry after retryAfterMs",
    retryable: true,
    scopes: ["connect", "command"],
    httpStatus: 429,
  },
  limit_exceeded: {
    message: "A configured cap was reached (connections per user, subscriptions per socket)",
    retryable: false,
    scopes: ["connect", "command"],
    httpStatus: 429,
  },
  slow_consumer: {
    message: "The connection fell too far behind; reconnect and resume with sinceSeq",
    retryable: true,
    scopes: ["connection"],
    httpStatus: 503,
  },
  unavailable: {
    message: "A backing service (Redis or the queue) is unreachable; retry shortly",
    retryable: true,
    scopes: ["command"],
    httpStatus: 503,
  },
  internal_error: {
    message: "Unexpected server error",
    retryable: true,
    scopes: ["command", "run"],
    httpStatus: 500,
  },
  agent_failed: {
    message: "The agent reported a failure",
    retryable: false,
    scopes: ["run"],
    httpStatus: 500,
  },
  run_stalled: {
    message: "The run stopped producing events and was ended by the watchdog",
    retryable: true,
    scopes: ["run"],
    httpStatus: 500,
  },
  worker_shutdown: {
    message: "The worker shut down before the run could finish",
    retryable: true,
    scopes: ["run"],
    httpStatus: 503,
  },
} as const satisfies Record<string, ErrorCodeInfo>;

export type ErrorCode = keyof typeof ERROR_CODES;

export const ERROR_CODE_NAMES = Object.keys(ERROR_CODES) as ErrorCode[];

/** The error object carried by a failed ack and by the `error` event. */
export interface ErrorBody {
  code: ErrorCode;
  message: string;
  /** With rate_limited: when a retry can succeed. */
  retryAfterMs?: number;
}

export function errorBody(code: ErrorCode, message?: string): ErrorBody {
  return { code, message: message ?? ERROR_CODES[code].message };
}

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === "string" && Object.hasOwn(ERROR_CODES, value);
}
