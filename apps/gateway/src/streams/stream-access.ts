import type { IncomingMessage } from "node:http";
import type { ErrorCode } from "@agentcast/protocol";
import { isReadToken, type ReadGrant, type TaskRecord, type TaskStore } from "@agentcast/store";
import { bearerToken, type VerifiedToken } from "../auth/token-verifier.js";
import type { StreamAccess } from "./task-stream.js";

export interface StreamAccessDeps {
  verifyToken: (token: string | undefined) => Promise<VerifiedToken>;
  verifyReadToken: (token: string) => Promise<ReadGrant | undefined>;
  tasks: Pick<TaskStore, "getOwnedTask" | "getTask">;
  clockSkewSeconds: number;
  /** A request's token was refused (by code; `read_token` for a read token). */
  onRefused: (code: ErrorCode, readToken: boolean) => void;
}

export type StreamAccessResult = { ok: true; access: StreamAccess; task: TaskRecord } | { ok: false; code: ErrorCode; message?: string };

/**
 * Who may open a task's stream: `Authorization: Bearer <user token>` for the owner, or a read token of
 * that task — as `?token=` (what `EventSource`, which cannot send headers, can do) or as the bearer.
 * A user's token in the URL is refused: it would end up in access logs and browser history.
 */
export async function streamAccess(deps: StreamAccessDeps, req: IncomingMessage, url: URL, taskId: string): Promise<StreamAccessResult> {
  const bearer = bearerToken(req.headers.authorization);
  const query = url.searchParams.get("token") ?? undefined;
  const token = bearer ?? query;
  if (token !== undefined && isReadToken(token)) return readerAccess(deps, token, taskId);
  if (bearer === undefined && query !== undefined) {
    deps.onRefused("token_invalid", false);
    return {
      ok: false,
      code: "token_invalid",
      message: "?token= takes a read token (POST /v1/tasks/:taskId/read-tokens); send a user's token as Authorization: Bearer",
    };
  }
  const verified = await deps.verifyToken(bearer);
  if (!verified.ok) {
    deps.onRefused(verified.code, false);
    return { ok: false, code: verified.code };
  }
  const owned = await deps.tasks.getOwnedTask(verified.userId, taskId);
  if (!owned.ok) return { ok: false, code: owned.code };
  const expiresAtMs = verified.expiresAt === undefined ? undefined : (verified.expiresAt + deps.clockSkewSeconds) * 1000;
  return { ok: true, access: { userId: verified.userId, expiresAtMs }, task: owned.task };
}

async function readerAccess(deps: StreamAccessDeps, token: string, taskId: string): Promise<StreamAccessResult> {
  const grant = await deps.verifyReadToken(token);
  if (!grant) {
    deps.onRefused("token_invalid", true);
    return { ok: false, code: "token_invalid", message: "Unknown, expired or revoked read token" };
  }
  if (grant.taskId !== taskId) {
    deps.onRefused("forbidden", true);
    return { ok: false, code: "forbidden", message: "This read token opens another task" };
  }
  const task = await deps.tasks.getTask(taskId);
  if (!task) return { ok: false, code: "not_found" };
  return { ok: true, access: { userId: task.userId, expiresAtMs: grant.expiresAtMs, readToken: grant }, task };
}
