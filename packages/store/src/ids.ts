import { randomBytes } from "node:crypto";

/** `t_` + 20 url-safe chars: fixed length, so `task:{id}` is never 20 chars (the adapter's socket-id heuristic). */
export function newTaskId(): string {
  return `t_${randomBytes(15).toString("base64url")}`;
}

export function newRunId(): string {
  return `r_${randomBytes(15).toString("base64url")}`;
}

export function newQuestionId(): string {
  return `q_${randomBytes(9).toString("base64url")}`;
}
