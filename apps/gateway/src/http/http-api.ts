import type { IncomingMessage, ServerResponse } from "node:http";
import { commandSchemas, ERROR_CODES, LIMITS, payloadErrorOf } from "@agentcast/protocol";
import type { EventLog, TaskStore } from "@agentcast/store";
import type { Logger } from "pino";
import { bearerToken, type VerifiedToken } from "../auth/token-verifier.js";
import { CommandError } from "../commands/command-error.js";
import { type CommandAdmission, retryAfterSeconds } from "../limits/command-admission.js";
import type { RunService } from "../runs/run-service.js";
import type { StreamAccessDeps } from "../streams/stream-access.js";
import { serveResumableStream, serveStreamStart } from "../streams/stream-routes.js";
import type { TaskStreamDeps } from "../streams/task-stream.js";
import type { Readiness } from "./readiness.js";
import { decodePathSegment, intParam, messageIdOf, optionalIntParam, requestUrl, taskIdParam } from "./request-input.js";
import { BodyError, readJson, sendError, sendJson } from "./respond.js";
import { type TaskActionDeps, taskActions } from "./task-actions.js";

export interface HttpApiDeps {
  gatewayId: string;
  verifyToken: (token: string | undefined) => Promise<VerifiedToken>;
  onAuthFailure?: (code: string) => void;
  /** The per-user command limit, shared with socket commands: every authenticated request that is not a read passes it. */
  admitCommand: CommandAdmission;
  /** Cluster-wide numbers for GET /v1/stats (admin only). */
  stats: () => Promise<{ gateways: { gatewayId: string; connections: number; rooms: number }[]; queue: Record<string, number> }>;
  tasks: TaskStore;
  eventLog: EventLog;
  runs: RunService;
  isReady: () => Readiness;
  /** Maps an unexpected error to a code (`unavailable` while Redis is down). */
  classifyError: (err: unknown) => "internal_error" | "unavailable";
  corsOrigins: readonly string[];
  /** Serves the web console for other GET paths, when WEB_ROOT is set. */
  staticFiles?: (req: IncomingMessage, res: ServerResponse, pathname: string) => Promise<boolean>;
  /** HTTP event streams (SSE): how one is served (wired once Socket.IO exists), and who may open one. */
  streams: () => TaskStreamDeps;
  streamAccess: StreamAccessDeps;
  actions: TaskActionDeps;
  logger: Logger;
}

const TASK_PATH = /^\/v1\/tasks\/([^/]+)(\/events)?$/;
const ACTION_PATH = /^\/v1\/tasks\/([^/]+)\/(cancel|answer|read-tokens)$/;
const READ_TOKEN_PATH = /^\/v1\/tasks\/([^/]+)\/read-tokens\/([^/]+)$/;

/** The small HTTP API next to Socket.IO: health, readiness, tasks and their history. */
export function createHttpApi(deps: HttpApiDeps): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    handle(deps, req, res).catch((err) => {
      if (err instanceof BodyError) return sendError(res, err.code, err.message);
      if (err instanceof CommandError) return sendError(res, err.code, err.message);
      deps.logger.error({ err, url: req.url }, "http request failed");
      if (!res.headersSent) sendError(res, deps.classifyError(err));
    });
  };
}

async function handle(deps: HttpApiDeps, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = requestUrl(req);
  if (!url) return sendError(res, "not_found", "No such route");
  const path = url.pathname;
  applyCors(deps.corsOrigins, req, res);
  if (req.method === "OPTIONS") {
    res.writeHead(204).end();
    return;
  }
  if (path === "/healthz") return sendJson(res, 200, { status: "ok", gatewayId: deps.gatewayId });
  if (path === "/readyz") {
    const r = deps.isReady();
    return sendJson(res, r.ready ? 200 : 503, { ...r, gatewayId: deps.gatewayId });
  }
  if (!path.startsWith("/v1/")) {
    if (deps.staticFiles && (await deps.staticFiles(req, res, path))) return;
    return sendError(res, "not_found", "No such route");
  }
  // A stream that resumes opens with a user's token or a read token (`?token=`), so it authenticates on its own.
  const streamRoutes = { runs: deps.runs, tasks: deps.tasks, streams: deps.streams, access: deps.streamAccess };
  if (await serveResumableStream(streamRoutes, req, res, url)) return;

  const auth = await deps.verifyToken(bearerToken(req.headers.authorization));
  if (!auth.ok) {
    deps.onAuthFailure?.(auth.code);
    return sendError(res, auth.code);
  }
  const userId = auth.userId;
  // Every request that changes something is a command: the same per-user limit and `rate_limited` body as a
  // socket's. Reads (GET) are not commands: a page of tasks or history changes nothing.
  const limited = req.method === "GET" || req.method === "HEAD" ? null : await deps.admitCommand(userId);
  if (limited) {
    res.setHeader("retry-after", retryAfterSeconds(limited));
    return sendJson(res, ERROR_CODES.rate_limited.httpStatus, { error: limited });
  }

  if (path === "/v1/stats" && req.method === "GET") {
    if (auth.role !== "admin") return sendError(res, "forbidden", 'GET /v1/stats needs a token with the claim role: "admin"');
    const { gateways, queue } = await deps.stats();
    const connections = gateways.reduce((n, g) => n + g.connections, 0);
    const rooms = gateways.reduce((n, g) => n + g.rooms, 0);
    return sendJson(res, 200, { gatewayId: deps.gatewayId, connections, rooms, gateways, queue });
  }

  if (path === "/v1/tasks" && req.method === "POST") {
    const idempotencyKey = req.headers["idempotency-key"];
    const parsed = commandSchemas.user_message.safeParse(await readJson(req, LIMITS.maxRequestBodyBytes));
    if (!parsed.success) {
      const error = payloadErrorOf(parsed.error);
      return sendError(res, error.code, error.message);
    }
    const messageId = messageIdOf(idempotencyKey, parsed.data.messageId);
    const started = await deps.runs.start({ userId, text: parsed.data.text, taskId: parsed.data.taskId, messageId });
    return sendJson(res, 202, started);
  }
  if (path === "/v1/tasks" && req.method === "GET") {
    const limit = intParam(url, "limit", 20, 1, 100);
    // A cursor is a previous page's `nextCursor`: a positive integer (an empty or zero one is a mistake, not an empty page).
    const before = optionalIntParam(url, "cursor", 1, Number.MAX_SAFE_INTEGER);
    const page = await deps.tasks.listTasks(userId, limit, before);
    return sendJson(res, 200, { tasks: page.tasks.map(publicTask), nextCursor: page.nextCursor === null ? null : String(page.nextCursor) });
  }
  const access = { userId, expiresAtMs: auth.expiresAt === undefined ? undefined : auth.expiresAt * 1000 };
  if (await serveStreamStart(streamRoutes, req, res, path, access)) return;
  const action = ACTION_PATH.exec(path);
  if (action && req.method === "POST") {
    const taskId = taskIdParam(action[1] as string);
    if (action[2] === "cancel") return taskActions.cancel(deps.actions, req, res, userId, taskId);
    if (action[2] === "answer") return taskActions.answer(deps.actions, req, res, userId, taskId);
    return taskActions.mintReadToken(deps.actions, req, res, userId, taskId);
  }
  const tokenPath = READ_TOKEN_PATH.exec(path);
  if (tokenPath && req.method === "DELETE") {
    const taskId = taskIdParam(tokenPath[1] as string);
    const tokenId = decodePathSegment(tokenPath[2] as string);
    if (tokenId === undefined || !/^[A-Za-z0-9_-]{1,64}$/.test(tokenId))
      return sendError(res, "invalid_payload", "read token id: malformed");
    return taskActions.revokeReadToken(deps.actions, res, userId, taskId, tokenId);
  }
  const match = TASK_PATH.exec(path);
  if (match && req.method === "GET") {
    // Every parameter is checked before the task is looked up, as a command's schema is.
    const taskId = taskIdParam(match[1] as string);
    const page = match[2]
      ? {
          sinceSeq: intParam(url, "sinceSeq", 0, 0, Number.MAX_SAFE_INTEGER),
          limit: intParam(url, "limit", LIMITS.maxEventsPerPage, 1, LIMITS.maxEventsPerPage),
        }
      : undefined;
    const owned = await deps.tasks.getOwnedTask(userId, taskId);
    if (!owned.ok) return sendError(res, owned.code);
    if (!page) return sendJson(res, 200, publicTask(owned.task));
    const { sinceSeq, limit } = page;
    const [events, { firstSeq, foldedThrough }] = await Promise.all([
      deps.eventLog.readAfter(taskId, sinceSeq, limit),
      deps.eventLog.position(taskId),
    ]);
    const last = events[events.length - 1];
    const truncated = sinceSeq < owned.task.lastSeq && (firstSeq ?? owned.task.lastSeq + 1) > sinceSeq + 1;
    return sendJson(res, 200, {
      taskId,
      lastSeq: owned.task.lastSeq,
      events,
      ...(truncated ? { truncated: true, firstSeq: firstSeq ?? owned.task.lastSeq + 1 } : {}),
      ...(foldedThrough > sinceSeq ? { foldedThrough } : {}),
      nextSinceSeq: last && last.seq < owned.task.lastSeq ? last.seq : null,
    });
  }
  return sendError(res, "not_found", "No such route");
}

function publicTask(t: {
  taskId: string;
  status: string;
  lastSeq: number;
  runId: string;
  title: string;
  runs: number;
  createdAt: number;
  updatedAt: number;
}) {
  const { taskId, status, lastSeq, runId, title, runs, createdAt, updatedAt } = t;
  return { taskId, status, lastSeq, runId, title, runs, createdAt, updatedAt };
}

function applyCors(origins: readonly string[], req: IncomingMessage, res: ServerResponse): void {
  const origin = req.headers.origin;
  if (!origin || origins.length === 0) return;
  if (!origins.includes("*") && !origins.includes(origin)) return;
  res.setHeader("access-control-allow-origin", origin);
  res.setHeader("vary", "origin");
  res.setHeader("access-control-allow-headers", "authorization, content-type, idempotency-key, last-event-id");
  res.setHeader("access-control-allow-methods", "GET, POST, DELETE, OPTIONS");
  res.setHeader("access-control-max-age", "600");
}
