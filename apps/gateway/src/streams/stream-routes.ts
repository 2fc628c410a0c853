import type { IncomingMessage, ServerResponse } from "node:http";
import type { TaskStore } from "@agentcast/store";
import { sendError } from "../http/respond.js";
import type { RunService } from "../runs/run-service.js";
import { agUiRoutes } from "./ag-ui/ag-ui-routes.js";
import { chatRoutes } from "./ai-sdk/chat-routes.js";
import { serveTaskSse } from "./sse-route.js";
import { type StreamAccessDeps, streamAccess } from "./stream-access.js";
import type { TaskStreamDeps } from "./task-stream.js";

export interface StreamRouteDeps {
  runs: RunService;
  tasks: TaskStore;
  /** How a stream is served (wired once Socket.IO exists). */
  streams: () => TaskStreamDeps;
  access: StreamAccessDeps;
}

/** The surfaces whose streams resume: `GET /v1/tasks/:taskId/stream`, `/v1/chat/:chatId/stream`, `/v1/ag-ui/:threadId/stream`. */
export type StreamSurface = "tasks" | "chat" | "ag-ui";

/**
 * A stream that resumes: it opens with the owner's token or a read token of its task (`?token=`, what
 * `EventSource` can send), so it authenticates here rather than with the other routes.
 */
export async function serveResumableStream(
  deps: StreamRouteDeps,
  surface: StreamSurface,
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
  taskId: string,
): Promise<void> {
  const target = await streamAccess(deps.access, req, url, taskId);
  if (!target.ok) return sendError(res, target.code, target.message);
  if (surface === "tasks") await serveTaskSse(deps.streams(), req, res, url, target);
  else if (surface === "chat") await chatRoutes.resume(deps, res, target);
  else await agUiRoutes.resume(deps, req, res, target);
}
