import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { TASK_ROOM_PREFIX, USER_ROOM_PREFIX, userRoom } from "@agentcast/protocol";
import { createSupervisor, startMetricsServer } from "@agentcast/runtime";
import { createKeys, EventLog, MessageIds, ReadTokens, RunQueues, redisTargetOf, TaskStore } from "@agentcast/store";
import type { Logger } from "pino";
import { announceRevocation, READ_TOKEN_REVOKED, ReadTokenSessions } from "./auth/read-token-sessions.js";
import { socketAuth } from "./auth/socket-auth.js";
import { createTokenVerifier } from "./auth/token-verifier.js";
import type { GatewayConfig } from "./config.js";
import { onConnection } from "./connection/on-connection.js";
import { drainSockets } from "./drain/drain-sockets.js";
import { createHttpApi } from "./http/http-api.js";
import { readiness } from "./http/readiness.js";
import { createStaticFiles } from "./http/static-files.js";
import { createCommandAdmission } from "./limits/command-admission.js";
import { createConnectionLeases } from "./limits/connection-leases.js";
import { createHandshakeGuard } from "./limits/handshake-guard.js";
import { KeyedBuckets } from "./limits/token-bucket.js";
import { UserLimits } from "./limits/user-limits.js";
import { BACKGROUND_JOBS, createGatewayMetrics } from "./metrics/gateway-metrics.js";
import { createGatewayRedis } from "./redis/gateway-redis.js";
import { createAnswerWatch } from "./runs/answer-watch.js";
import { RunService } from "./runs/run-service.js";
import { createSocketServer, type GatewayServer } from "./socketio/socket-server.js";
import { GatewayRegistry } from "./stats/gateway-registry.js";
import type { StreamProtocol, TaskStreamDeps } from "./streams/task-stream.js";
import { createTaskDelivery, SLOW_CONSUMER_CLOSE_MS } from "./subscriptions/task-delivery.js";

const HEARTBEAT_MS = 5_000;

export interface Gateway {
  /** Listens on PORT and METRICS_PORT; resolves with the bound ports. */
  start(): Promise<{ port: number; metricsPort: number }>;
  stop(): Promise<void>;
}

/** The one wiring place: Redis, Socket.IO with task delivery, auth and limits, commands, HTTP, metrics. No behaviour lives here. */
export function createGateway(config: GatewayConfig, logger: Logger): Gateway {
  const keys = createKeys(config.REDIS_KEY_PREFIX);
  let draining = false;
  let io: GatewayServer | undefined;
  const connections = () => io?.of("/").sockets.size ?? 0;
  const heldRooms = () => countRooms(io);
  const redisUp = () => redis.up();
  const openStreams = new Map<StreamProtocol, number>();
  const metrics = createGatewayMetrics(config.GATEWAY_ID, {
    connections,
    rooms: heldRooms,
    redisUp,
    redisClusterNodes: () => redis.clusterNodes(),
    httpStreams: () => openStreams,
  });
  const supervisor = createSupervisor({ registry: metrics.registry, metricPrefix: "agentcast_gateway", jobs: BACKGROUND_JOBS, logger });
  const redis = createGatewayRedis({
    target: redisTargetOf(config),
    gatewayId: config.GATEWAY_ID,
    pingIntervalMs: config.REDIS_PING_INTERVAL_MS,
    pingTimeoutMs: config.REDIS_PING_TIMEOUT_MS,
    onOutage: () => metrics.silentFailures.inc("redis_error"),
    cluster: metrics.redisCluster,
    logger,
  });
  const tasks = new TaskStore(redis.cmd, { keys, historyTtlSeconds: config.HISTORY_TTL_SECONDS });
  const eventLog = new EventLog(redis.cmd, keys);
  const readTokens = new ReadTokens(redis.cmd, { keys, maxPerTask: config.MAX_READ_TOKENS_PER_TASK });
  const readTokenSessions = new ReadTokenSessions();
  const queue = new RunQueues({ connection: redis.queue, prefix: keys.queuePrefix, shards: config.RUN_QUEUE_SHARDS });
  queue.on("error", (err) => logger.warn({ err: err.message }, "queue error"));
  const registry = new GatewayRegistry(
    redis.cmd,
    keys.gateways,
    config.GATEWAY_ID,
    () => ({ connections: connections(), rooms: heldRooms() }),
    HEARTBEAT_MS,
    logger,
  );
  const verifyToken = createTokenVerifier({
    secret: config.JWT_SECRET,
    publicKeyPem: config.JWT_PUBLIC_KEY,
    jwksUrl: config.JWT_JWKS_URL,
    jwksCacheSeconds: config.JWT_JWKS_CACHE_SECONDS,
    issuer: config.JWT_ISSUER,
    audience: config.JWT_AUDIENCE,
    clockSkewSeconds: config.JWT_CLOCK_SKEW_SECONDS,
  });
  const userLimits = new UserLimits(
    redis.cmd,
    keys.prefix,
    config.RATE_LIMIT_USER_COMMANDS_PER_MIN,
    config.MAX_CONNECTIONS_PER_USER,
    config.CONNECTION_LEASE_MS,
  );
  const admitCommand = createCommandAdmission({
    takeUserCommand: (userId) => userLimits.takeCommand(userId),
    onLimited: (limit) => metrics.limits.inc({ limit }),
    onCheckFailed: () => metrics.limitCheckFailures.inc({ limit: "commands_per_user" }),
    logger,
  });
  const leases = createConnectionLeases({
    userLimits,
    leaseMs: config.CONNECTION_LEASE_MS,
    supervisor,
    onCheckFailed: () => metrics.limitCheckFailures.inc({ limit: "connections_per_user" }),
    logger,
  });
  const classifyError = () => (redisUp() ? ("internal_error" as const) : ("unavailable" as const));
  const watchAnswer = createAnswerWatch({
    tasks,
    timeoutMs: config.USER_RESPONSE_TIMEOUT_MS,
    supervisor,
    onTimeout: () => metrics.silentFailures.inc("ack_timeout"),
    logger,
  });
  const runs = new RunService({
    tasks,
    queue,
    messageIds: new MessageIds(redis.cmd, keys, config.HISTORY_TTL_SECONDS),
    notifyTaskCreated: (userId, notice) => io?.to(userRoom(userId)).emit("task_created", notice),
    supervisor,
    logger,
  });
  // Filled in once Socket.IO and the subscription registry exist (they need the HTTP server first).
  let streams: TaskStreamDeps | undefined;
  const httpServer = createServer(
    createHttpApi({
      gatewayId: config.GATEWAY_ID,
      verifyToken,
      onAuthFailure: (code) => metrics.authFailures.inc({ code }),
      admitCommand,
      tasks,
      eventLog,
      runs,
      stats: async () => ({ gateways: await registry.list(), queue: await queue.getJobCounts() }),
      isReady: () => readiness(redis.problem(), draining),
      classifyError,
      corsOrigins: config.CORS_ORIGINS,
      ...(config.WEB_ROOT ? { staticFiles: createStaticFiles(config.WEB_ROOT, logger) } : {}),
      streams: () => streams as TaskStreamDeps,
      streamAccess: {
        verifyToken,
        verifyReadToken: (token) => readTokens.verify(token),
        tasks,
        clockSkewSeconds: config.JWT_CLOCK_SKEW_SECONDS,
        onRefused: (code, readToken) => (readToken ? metrics.readTokens.inc({ action: "rejected" }) : metrics.authFailures.inc({ code })),
      },
      actions: {
        tasks,
        readTokens,
        announceRevocation: (taskId, tokenId) => announceRevocation(redis.cmd, taskId, tokenId),
        watchAnswer: (taskId, questionId) => watchAnswer(taskId, questionId),
        onReadToken: (action) => metrics.readTokens.inc({ action }),
      },
      logger,
    }),
  );
  const server = createSocketServer(httpServer, {
    corsOrigins: config.CORS_ORIGINS,
    // Before every handshake and upgrade: draining, origin allowlist, per-IP connection rate.
    allowRequest: createHandshakeGuard({
      origins: config.CORS_ORIGINS,
      trustedProxyHops: config.TRUST_PROXY,
      perIp: new KeyedBuckets(config.CONNECT_RATE_PER_IP_PER_SEC, config.CONNECT_BURST_PER_IP),
      isDraining: () => draining,
      onRefused: (why) => {
        if (why !== "draining") metrics.limits.inc({ limit: why === "origin" ? "origin" : "connections_per_ip" });
      },
    }),
  });
  io = server;
  const delivery = createTaskDelivery({
    server,
    cmd: redis.cmd,
    sub: redis.sub,
    onSubscriptionsMoved: redis.onSubscriptionsMoved,
    eventLog,
    metrics,
    supervisor,
    logger,
    maxSubscriptionsPerSocket: config.MAX_SUBSCRIPTIONS_PER_SOCKET,
    maxOutboundBytes: config.MAX_OUTBOUND_BUFFER_BYTES,
    notices: {
      names: new Set([READ_TOKEN_REVOKED]),
      onNotice: (_taskId, _name, arg) => {
        const tokenId = (arg as { tokenId?: unknown } | undefined)?.tokenId;
        if (typeof tokenId === "string") readTokenSessions.revoked(tokenId);
      },
    },
  });
  streams = {
    nsp: server.of("/"),
    registry: delivery.registry,
    leases,
    sessions: readTokenSessions,
    readTokenLive: (grant) => readTokens.isLive(grant),
    heartbeatMs: config.SSE_HEARTBEAT_MS,
    maxOutboundBytes: config.MAX_OUTBOUND_BUFFER_BYTES,
    closeGraceMs: SLOW_CONSUMER_CLOSE_MS,
    open: openStreams,
    onOpened: (protocol) => metrics.httpStreamsOpened.inc({ protocol }),
    onLimited: (limit) => metrics.limits.inc({ limit }),
    logger,
  };
  server.use(
    socketAuth({
      verify: verifyToken,
      verifyReadToken: async (token) => {
        const grant = await readTokens.verify(token);
        const task = grant ? await tasks.getTask(grant.taskId) : undefined;
        if (!grant || !task) {
          metrics.readTokens.inc({ action: "rejected" });
          return { ok: false, code: "token_invalid", reason: "unknown, expired or revoked read token" };
        }
        const readScope = { taskId: grant.taskId, tokenId: grant.tokenId };
        return { ok: true, userId: task.userId, expiresAt: Math.floor(grant.expiresAtMs / 1000), readScope };
      },
      takeLease: leases.take,
      onAuthFailure: (code) => metrics.authFailures.inc({ code }),
      onLimited: (limit) => metrics.limits.inc({ limit }),
      onAbandoned: () => metrics.handshakesAbandoned.inc(),
    }),
  );
  server.on("connection", (socket) =>
    onConnection(socket, {
      gatewayId: config.GATEWAY_ID,
      logger,
      metrics,
      classifyError,
      confirmRoom: delivery.confirmRoom,
      tasks,
      subscriptions: delivery.registry,
      runs,
      silentFailure: metrics.silentFailures.inc,
      watchAnswer,
      verifyToken,
      admitCommand,
      supervisor,
      commandRate: { perSec: config.RATE_LIMIT_COMMANDS_PER_SEC, burst: config.RATE_LIMIT_COMMANDS_BURST },
      readTokenSessions,
      readTokenLive: (taskId, tokenId) => readTokens.isLive({ taskId, tokenId, expiresAtMs: 0 }),
      clockSkewSeconds: config.JWT_CLOCK_SKEW_SECONDS,
    }),
  );

  let metricsServer: Awaited<ReturnType<typeof startMetricsServer>>["server"] | undefined;
  return {
    async start() {
      await new Promise<void>((resolve, reject) => {
        httpServer.once("error", reject);
        // A deep accept queue: after a pod dies its clients all reconnect at once, and connections the
        // queue drops come back only after TCP's SYN retries (1 s, 3 s, 7 s, 15 s, 31 s).
        httpServer.listen({ port: config.PORT, host: config.HOST, backlog: config.LISTEN_BACKLOG }, () => resolve());
      });
      const port = (httpServer.address() as AddressInfo).port;
      const m = await startMetricsServer(metrics.registry, config.METRICS_PORT, config.HOST);
      metricsServer = m.server;
      registry.start();
      leases.start();
      logger.info({ port, metricsPort: m.port }, "gateway listening");
      return { port, metricsPort: m.port };
    },
    async stop() {
      draining = true; // readyz → 503, new handshakes refused
      leases.stop();
      await drainSockets(server.of("/"), { windowMs: config.DRAIN_WINDOW_MS, gatewayId: config.GATEWAY_ID, logger });
      await registry.stop();
      await server.close();
      metricsServer?.close();
      await queue.close().catch((err: unknown) => logger.warn({ err }, "queue did not close cleanly"));
      redis.close();
    },
  };
}

/** Task and user rooms held by this gateway (not the per-socket rooms). */
function countRooms(io: GatewayServer | undefined): number {
  let n = 0;
  for (const room of io?.of("/").adapter.rooms.keys() ?? [])
    if (room.startsWith(TASK_ROOM_PREFIX) || room.startsWith(USER_ROOM_PREFIX)) n++;
  return n;
}
