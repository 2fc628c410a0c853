import type { IncomingMessage, ServerResponse } from "node:http";
import { commandSchemas, httpBodySchemas, LIMITS, payloadErrorOf, type ReadTokenResponse } from "@agentcast/protocol";
import type { ReadTokens, TaskStore } from "@agentcast/store";
import type { z } from "zod";
import { readJson, sendError, sendJson } from "./respond.js";

export interface TaskActionDeps {
  tasks: TaskStore;
  readTokens: ReadTokens;
  /** Ends every stream and socket of a revoked read token, on every gateway. */
  announceRevocation: (taskId: string, tokenId: string) => Promise<void>;
  /** After an answer is accepted: checks later that a run consumed it (ack_timeout), as for `user_response`. */
  watchAnswer: (taskId: string, questionId: string) => void;
  onReadToken: (action: "minted" | "revoked" | "refused") => void;
}

/** A JSON body checked against `schema`; an empty body counts as `{}`. Undefined when it was refused (answered). */
async function bodyOf<S extends z.ZodType>(req: IncomingMessage, res: ServerResponse, schema: S): Promise<z.infer<S> | undefined> {
  const empty = req.headers["content-length"] === "0" || (req.headers["content-length"] === undefined && !req.headers["transfer-encoding"]);
  const raw = empty ? {} : await readJson(req, LIMITS.maxRequestBodyBytes);
  const parsed = schema.safeParse(raw);
  if (parsed.success) return parsed.data;
  const error = payloadErrorOf(parsed.error);
  sendError(res, error.code, error.message);
  return undefined;
}

/**
 * The HTTP twins of the socket commands a socket-less client needs, with the same codes, and read tokens:
 * `POST /v1/tasks/:taskId/cancel`, `POST /v1/tasks/:taskId/answer`, `POST /v1/tasks/:taskId/read-tokens`,
 * `DELETE /v1/tasks/:taskId/read-tokens/:id`.
 */
export const taskActions = {
  async cancel(deps: TaskActionDeps, req: IncomingMessage, res: ServerResponse, userId: string, taskId: string): Promise<void> {
    if ((await bodyOf(req, res, httpBodySchemas.cancel)) === undefined) return;
    const done = await deps.tasks.requestCancel(userId, taskId);
    if (!done.ok) return sendError(res, done.code);
    sendJson(res, 202, { taskId, runId: done.runId });
  },

  async answer(deps: TaskActionDeps, req: IncomingMessage, res: ServerResponse, userId: string, taskId: string): Promise<void> {
    const body = await bodyOf(req, res, httpBodySchemas.answer);
    if (body === undefined) return;
    // The socket command's schema too, so both doors refuse the same payloads the same way.
    const checked = commandSchemas.user_response.safeParse({ taskId, ...body });
    if (!checked.success) {
      const error = payloadErrorOf(checked.error);
      return sendError(res, error.code, error.message);
    }
    const done = await deps.tasks.answerQuestion(userId, taskId, body.questionId, body.response);
    if (!done.ok)
      return sendError(res, done.code, done.code === "not_found" ? "No such task or no open question with this questionId" : undefined);
    deps.watchAnswer(taskId, body.questionId);
    sendJson(res, 202, { taskId, questionId: body.questionId });
  },

  async mintReadToken(deps: TaskActionDeps, req: IncomingMessage, res: ServerResponse, userId: string, taskId: string): Promise<void> {
    const body = await bodyOf(req, res, httpBodySchemas.readToken);
    if (body === undefined) return;
    const minted = await deps.readTokens.mint(userId, taskId, body.ttlSeconds);
    if (!minted.ok) {
      if (minted.code === "limit_exceeded") {
        deps.onReadToken("refused");
        return sendError(
          res,
          "limit_exceeded",
          "This task has as many live read tokens as allowed (MAX_READ_TOKENS_PER_TASK); revoke one first",
        );
      }
      return sendError(res, minted.code);
    }
    deps.onReadToken("minted");
    sendJson(res, 201, minted.minted satisfies ReadTokenResponse);
  },

  async revokeReadToken(deps: TaskActionDeps, res: ServerResponse, userId: string, taskId: string, tokenId: string): Promise<void> {
    const owned = await deps.tasks.getOwnedTask(userId, taskId);
    if (!owned.ok) return sendError(res, owned.code);
    if (!(await deps.readTokens.revoke(taskId, tokenId))) return sendError(res, "not_found", "No such read token on this task");
    deps.onReadToken("revoked");
    await deps.announceRevocation(taskId, tokenId);
    res.writeHead(204).end();
  },
};
