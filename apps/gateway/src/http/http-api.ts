import type { IncomingMessage, ServerResponse } from "node:http";
import { commandSchemas, ERROR_CODES, LIMITS, payloadErrorOf } from "@agentcast/protocol";
import type { EventLog, TaskStore } from "@agentcast/store";
import FindMyWay from "find-my-way";
import type { Logger } from "pino";
import { bearerToken, type VerifiedToken } from "../auth/token-verifier.js";
import { CommandError } from "../commands/command-error.js";
import { type CommandAdmission, retryAfterSeconds } from "../limits/command-admission.js";
import type { RunService } from "../runs/run-service.js";
import { agUiRoutes } from "../streams/ag-ui/ag-ui-routes.js";
import { chatRoutes } from "../streams/ai-sdk/chat-routes.js";
import type { StreamAccessDeps } from "../streams/stream-access.js";
import { serveResumableStream } from "../streams/stream-routes.js";
import type { TaskStreamDeps } from "../streams/task-stream.js";
import type { Readiness } from "./readiness.js";
import { intParam, messageIdOf, optionalIntParam, requestUrl, taskIdParam } from "./request-input.js";
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

/** A request as a route gets it: the path's parameters decoded by the router. */
interface RouteRequest {
  req: IncomingMessage;
  res: ServerResponse;
  url: URL;
  params: Record<string, string | undefined>;
}
/** After the bearer token was verified (and, for a request that changes something, the command limit passed). */
interface AuthedRequest extends RouteRequest {
  userId: string;
  auth: Extract<VerifiedToken, { ok: true }>;
}
type Route =
  | { auth: false; serve: (r: RouteRequest) => Promise<void> | void }
  | { auth: true; serve: (r: AuthedRequest) => Promise<void> | void };

/**
 * Every route of the HTTP API, in one table on find-my-way (the router Fastify runs on). The router
 * only finds the route and decodes its parameters; each route checks what it reads with the codes a
 * socket command gives for the same mistake.
 */
function routeTable(deps: HttpApiDeps): FindMyWay.Instance<FindMyWay.HTTPVersion.V1> {
  // A path that is not valid percent-encoding is found as a route whose store is null (see `handle`).
  // Parameters are bounded by the URL (node caps headers at 16 KiB), not by the router: a 65-character task id is
  // `invalid_payload`, not 404.
  const router = FindMyWay({ maxParamLength: 16_384, onBadUrl: () => {} });
  const noop = () => {};
  const open = (methods: FindMyWay.HTTPMethod[], path: string, serve: (r: RouteRequest) => Promise<void> | void) =>
    router.on(methods, path, noop, { auth: false, serve } satisfies Route);
  const authed = (methods: FindMyWay.HTTPMethod[], path: string, serve: (r: AuthedRequest) => Promise<void> | void) =>
    router.on(methods, path, noop, { auth: true, serve } satisfies Route);
  const streamRoutes = { runs: deps.runs, tasks: deps.tasks, streams: deps.streams, access: deps.streamAccess };

  open(["GET", "HEAD"], "/healthz", ({ res }) => sendJson(res, 200, { status: "ok", gatewayId: deps.gatewayId }));
  open(["GET", "HEAD"], "/readyz", ({ res }) => {
    const r = deps.isReady();
    sendJson(res, r.ready ? 200 : 503, { ...r, gatewayId: deps.gatewayId });
  });

  // The streams that resume open with a user's token or a read token (`?token=`), so they authenticate on their own.
  for (const [surface, param] of [
    ["tasks", "taskId"],
    ["chat", "chatId"],
    ["ag-ui", "threadId"],
  ] as const) {
    open(["GET"], `/v1/${surface}/:${param}/stream`, ({ req, res, url, params }) =>
      serveResumableStream(streamRoutes, surface, req, res, url, taskIdParam(params[param])),
    );
  }

  authed(["GET"], "/v1/stats", async ({ res, auth }) => {
    if (auth.role !== "admin") return sendError(res, "forbidden", 'GET /v1/stats needs a token with the claim role: "admin"');
    const { gateways, queue } = await deps.stats();
    const connections = gateways.reduce((n, g) => n + g.connections, 0);
    const rooms = gateways.reduce((n, g) => n + g.rooms, 0);
    sendJson(res, 200, { gatewayId: deps.gatewayId, connections, rooms, gateways, queue });
  });

  authed(["POST"], "/v1/tasks", async ({ req, res, userId }) => {
    const idempotencyKey = req.headers["idempotency-key"];
    const parsed = commandSchemas.user_message.safeParse(await readJson(req, LIMITS.maxRequestBodyBytes));
    if (!parsed.success) {
      const error = payloadErrorOf(parsed.error);
      return sendError(res, error.code, error.message);
    }
    const messageId = messageIdOf(idempotencyKey, parsed.data.messageId);
    const started = await deps.runs.start({ userId, text: parsed.data.text, taskId: parsed.data.taskId, messageId });
    sendJson(res, 202, started);
  });
  authed(["GET"], "/v1/tasks", async ({ res, url, userId }) => {
    const limit = intParam(url, "limit", 20, 1, 100);
    // A cursor is a previous page's `nextCursor`: a positive integer (an empty or zero one is a mistake, not an empty page).
    const before = optionalIntParam(url, "cursor", 1, Number.MAX_SAFE_INTEGER);
    const page = await deps.tasks.listTasks(userId, limit, before);
    sendJson(res, 200, { tasks: page.tasks.map(publicTask), nextCursor: page.nextCursor === null ? null : String(page.nextCursor) });
  });
  authed(["GET"], "/v1/tasks/:taskId", async ({ res, params, userId }) => {
    const taskId = taskIdParam(params.taskId);
    const owned = await deps.tasks.getOwnedTask(userId, taskId);
    if (!owned.ok) return sendError(res, owned.code);
    sendJson(res, 200, publicTask(owned.task));
  });
  authed(["GET"], "/v1/tasks/:taskId/events", async ({ res, url, params, userId }) => {
    // Every parameter is checked before the task is looked up, as a command's schema is.
    const taskId = taskIdParam(params.taskId);
    const sinceSeq = intParam(url, "sinceSeq", 0, 0, Number.MAX_SAFE_INTEGER);
    const limit = intParam(url, "limit", LIMITS.maxEventsPerPage, 1, LIMITS.maxEventsPerPage);
    const owned = await deps.tasks.getOwnedTask(userId, taskId);
    if (!owned.ok) return sendError(res, owned.code);
    const [events, { firstSeq, foldedThrough }] = await Promise.all([
      deps.eventLog.readAfter(taskId, sinceSeq, limit),
      deps.eventLog.position(taskId),
    ]);
    const last = events[events.length - 1];
    const truncated = sinceSeq < owned.task.lastSeq && (firstSeq ?? owned.task.lastSeq + 1) > sinceSeq + 1;
    sendJson(res, 200, {
      taskId,
      lastSeq: owned.task.lastSeq,
      events,
      ...(truncated ? { truncated: true, firstSeq: firstSeq ?? owned.task.lastSeq + 1 } : {}),
      ...(foldedThrough > sinceSeq ? { foldedThrough } : {}),
      nextSinceSeq: last && last.seq < owned.task.lastSeq ? last.seq : null,
    });
  });
  authed(["POST"], "/v1/tasks/:taskId/cancel", ({ req, res, params, userId }) =>
    taskActions.cancel(deps.actions, req, res, userId, taskIdParam(params.taskId)),
  );
  authed(["POST"], "/v1/tasks/:taskId/answer", ({ req, res, params, userId }) =>
    taskActions.answer(deps.actions, req, res, userId, taskIdParam(params.taskId)),
  );
  authed(["POST"], "/v1/tasks/:taskId/read-tokens", ({ req, res, params, userId }) =>
    taskActions.mintReadToken(deps.actions, req, res, userId, taskIdParam(params.taskId)),
  );
  authed(["DELETE"], "/v1/tasks/:taskId/read-tokens/:tokenId", ({ res, params, userId }) => {
    const taskId = taskIdParam(params.taskId);
    const tokenId = params.tokenId;
    if (tokenId === undefined || !/^[A-Za-z0-9_-]{1,64}$/.test(tokenId))
      return sendError(res, "invalid_payload", "read token id: malformed");
    return taskActions.revokeReadToken(deps.actions, res, userId, taskId, tokenId);
  });

  const streamAccessOf = ({ userId, auth }: AuthedRequest) => ({
    userId,
    expiresAtMs: auth.expiresAt === undefined ? undefined : auth.expiresAt * 1000,
  });
  authed(["POST"], "/v1/chat", (r) => chatRoutes.start(streamRoutes, r.req, r.res, streamAccessOf(r)));
  authed(["POST"], "/v1/chat/:chatId/stop", ({ res, params, userId }) =>
    chatRoutes.stop(streamRoutes, res, userId, taskIdParam(params.chatId)),
  );
  authed(["POST"], "/v1/ag-ui", (r) => agUiRoutes.run(streamRoutes, r.req, r.res, streamAccessOf(r)));
  return router;
}

/** The small HTTP API next to Socket.IO: health, readiness, tasks and their history, and the HTTP streams. */
export function createHttpApi(deps: HttpApiDeps): (req: IncomingMessage, res: ServerResponse) => void {
  const router = routeTable(deps);
  return (req, res) => {
    handle(deps, router, req, res).catch((err) => {
      if (err instanceof BodyError) return sendError(res, err.code, err.message);
      if (err instanceof CommandError) return sendError(res, err.code, err.message);
      deps.logger.error({ err, url: req.url }, "http request failed");
      if (!res.headersSent) sendError(res, deps.classifyError(err));
    });
  };
}

async function handle(
  deps: HttpApiDeps,
  router: FindMyWay.Instance<FindMyWay.HTTPVersion.V1>,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const url = requestUrl(req);
  if (!url) return sendError(res, "not_found", "No such route");
  const path = url.pathname;
  applyCors(deps.corsOrigins, req, res);
  if (req.method === "OPTIONS") {
    res.writeHead(204).end();
    return;
  }
  const found = router.find(req.method as FindMyWay.HTTPMethod, path);
  if (!found) {
    if (!path.startsWith("/v1/") && deps.staticFiles && (await deps.staticFiles(req, res, path))) return;
    return sendError(res, "not_found", "No such route");
  }
  if (found.store === null) {
    // Not valid percent-encoding (e.g. `%E0%A4%A`): it names nothing; a client mistake, never a 500.
    if (path.startsWith("/v1/")) return sendError(res, "invalid_payload", "path: malformed percent-encoding");
    return sendError(res, "not_found", "No such route");
  }
  const route = found.store as Route;
  const request: RouteRequest = { req, res, url, params: found.params };
  if (!route.auth) return route.serve(request);

  const auth = await deps.verifyToken(bearerToken(req.headers.authorization));
  if (!auth.ok) {
    deps.onAuthFailure?.(auth.code);
    return sendError(res, auth.code);
  }
  // Every request that changes something is a command: the same per-user limit and `rate_limited` body as a
  // socket's. Reads (GET) are not commands: a page of tasks or history changes nothing.
  const limited = req.method === "GET" || req.method === "HEAD" ? null : await deps.admitCommand(auth.userId);
  if (limited) {
    res.setHeader("retry-after", retryAfterSeconds(limited));
    return sendJson(res, ERROR_CODES.rate_limited.httpStatus, { error: limited });
  }
  return route.serve({ ...request, userId: auth.userId, auth });
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
