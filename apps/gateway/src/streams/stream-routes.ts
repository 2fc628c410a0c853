import type { IncomingMessage, ServerResponse } from "node:http";
import type { TaskStore } from "@agentcast/store";
import { taskIdParam } from "../http/request-input.js";
import { sendError } from "../http/respond.js";
import type { RunService } from "../runs/run-service.js";
import { agUiRoutes } from "./ag-ui/ag-ui-routes.js";
import { chatRoutes } from "./ai-sdk/chat-routes.js";
import { serveTaskSse } from "./sse-route.js";
import { type StreamAccessDeps, streamAccess } from "./stream-access.js";
import type { StreamAccess, TaskStreamDeps } from "./task-stream.js";

export interface StreamRouteDeps {
  runs: RunService;
  tasks: TaskStore;
  /** How a stream is served (wired once Socket.IO exists). */
  streams: () => TaskStreamDeps;
  access: StreamAccessDeps;
}

/** `GET /v1/tasks/:taskId/stream`, `GET /v1/chat/:chatId/stream`, `GET /v1/ag-ui/:threadId/stream`. */
const STREAM_PATH = /^\/v1\/(tasks|chat|ag-ui)\/([^/]+)\/stream$/;

/**
 * The streams that resume: each opens with the owner's token or a read token of its task (`?token=`, what
 * `EventSource` can send), so they authenticate here rather than with the other routes. False when the
 * request is not one of them.
 */
export async function serveResumableStream(deps: StreamRouteDeps, req: IncomingMessage, res: ServerResponse, url: URL): Promise<boolean> {
  const match = req.method === "GET" ? STREAM_PATH.exec(url.pathname) : null;
  if (!match) return false;
  const taskId = taskIdParam(match[2] as string);
  const target = await streamAccess(deps.access, req, url, taskId);
  if (!target.ok) {
    sendError(res, target.code, target.message);
    return true;
  }
  const surface = match[1];
  if (surface === "tasks") await serveTaskSse(deps.streams(), req, res, url, target);
  else if (surface === "chat") await chatRoutes.resume(deps, res, target);
  else await agUiRoutes.resume(deps, req, res, target);
  return true;
}

/** `POST /v1/chat`, `POST /v1/chat/:chatId/stop`, `POST /v1/ag-ui` (after the bearer token was checked); false for any other request. */
export async function serveStreamStart(
  deps: StreamRouteDeps,
  req: IncomingMessage,
  res: ServerResponse,
  path: string,
  access: StreamAccess,
): Promise<boolean> {
  if (req.method !== "POST") return false;
  if (path === "/v1/chat") await chatRoutes.start(deps, req, res, access);
  else if (path === "/v1/ag-ui") await agUiRoutes.run(deps, req, res, access);
  else {
    const stop = /^\/v1\/chat\/([^/]+)\/stop$/.exec(path);
    if (!stop) return false;
    await chatRoutes.stop(deps, res, access.userId, taskIdParam(stop[1] as string));
  }
  return true;
}
