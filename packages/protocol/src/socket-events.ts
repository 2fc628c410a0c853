import type { AckCallback, CommandPayload } from "./commands.js";
import type { ErrorBody } from "./errors.js";
import type { EventEnvelope } from "./events.js";

export interface ConnectionEstablished {
  connectionId: string;
  userId: string;
  gatewayId: string;
  protocol: 1;
}

/** Sent to the user room when a task is created (by any socket or by HTTP). */
export interface TaskCreatedNotice {
  taskId: string;
  runId: string;
  title: string;
  createdAt: number;
}

/**
 * History was rewritten under the socket: an event it was given is no longer in the task's history
 * (a Redis failover lost it and another event took its seq). Discard what you hold of the task; the
 * gateway sends its history again from the oldest retained event, then live events.
 */
export interface TaskResetNotice {
  taskId: string;
  reason: "history_rewritten";
}

/** The `error` event: a command failed (also in the ack, when there is one) or was unknown. */
export interface ErrorNotice extends ErrorBody {
  /** The event name the client sent. */
  event?: string;
}

/** `connect_error` data when the handshake is refused (`err.message === "unauthorized"`). */
export interface ConnectErrorData {
  code: "token_missing" | "token_invalid" | "token_expired" | "rate_limited" | "limit_exceeded";
  message: string;
}

export interface ServerToClientEvents {
  connection_established: (info: ConnectionEstablished) => void;
  event: (envelope: EventEnvelope) => void;
  task_created: (notice: TaskCreatedNotice) => void;
  task_reset: (notice: TaskResetNotice) => void;
  pong: (body: { ts: number }) => void;
  error: (notice: ErrorNotice) => void;
  /** The gateway is shutting down: it closes this connection next; reconnect (to another pod) and resubscribe. */
  draining: (notice: { gatewayId: string; reconnect: true }) => void;
}

export interface ClientToServerEvents {
  user_message: (payload: CommandPayload<"user_message">, ack: AckCallback<"user_message">) => void;
  subscribe: (payload: CommandPayload<"subscribe">, ack: AckCallback<"subscribe">) => void;
  unsubscribe: (payload: CommandPayload<"unsubscribe">, ack: AckCallback<"unsubscribe">) => void;
  cancel: (payload: CommandPayload<"cancel">, ack: AckCallback<"cancel">) => void;
  user_response: (payload: CommandPayload<"user_response">, ack: AckCallback<"user_response">) => void;
  report_gap: (payload: CommandPayload<"report_gap">, ack: AckCallback<"report_gap">) => void;
  auth_refresh: (payload: CommandPayload<"auth_refresh">, ack: AckCallback<"auth_refresh">) => void;
  ping: (payload: CommandPayload<"ping">, ack: AckCallback<"ping">) => void;
}

/** Names of the server → client Socket.IO events. */
export const SERVER_EVENT_NAMES = ["connection_established", "event", "task_created", "task_reset", "pong", "error", "draining"] as const;
