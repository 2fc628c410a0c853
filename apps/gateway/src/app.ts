import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import {
  type ClientToServerEvents,
  LIMITS,
  type ServerToClientEvents,
  TASK_ROOM_PREFIX,
  USER_ROOM_PREFIX,
  userRoom,
} from "@agentcast/protocol";
import { startMetricsServer, watchRedisLiveness, watchRedisOutages, withTimeout } from "@agentcast/runtime";
import { createKeys, EventLog, MessageIds, RUN_QUEUE_NAME, type RunJobData, TaskStore } from "@agentcast/store";
import { Queue } from "bullmq";
import { Redis } from "ioredis";
import type { Logger } from "pino";
import { Server } from "socket.io";
import { createTaskEventAdapter, roomChannel } from "./adapter/task-event-adapter.js";
import { socketAuth } from "./auth/socket-auth.js";
import { createTokenVerifier } from "./auth/token-verifier.js";
import type { GatewayConfig } from "./config.js";
import { onConnection } from "./connection/on-connection.js";
import { drainSockets } from "./drain/drain-sockets.js";
import { createHttpApi } from "./http/http-api.js";
import { createStaticFiles } from "./http/static-files.js";
import { createHandshakeGuard } from "./limits/handshake-guard.js";
import { KeyedBuckets } from "./limits/token-bucket.js";
import { UserLimits } from "./limits/user-limits.js";
import { createGatewayMetrics } from "./metrics/gateway-metrics.js";
import { RunService } from "./runs/run-service.js";
import { GatewayRegistry } from "./stats/gateway-registry.js";
import { TaskSubscriptions } from "./subscriptions/task-subscriptions.js";

type GatewayServer = Server<ClientToServerEvents, ServerToClientEvents, Record<string, never>, { userId: string }>;

const ROOM_CONFIRM_TIMEOUT_MS = 5_000;
const HEARTBEAT_MS = 5_000;

export interface Gateway {
  /** Listens on PORT and METRICS_PORT; resolves with the bound ports. */
  start(): Promise<{ port: number; metricsPort: number }>;
  stop(): Promise<void>;
}

/** The one wiring place: Redis clients, Socket.IO with the task-aware sharded adapter, commands, HTTP, metrics. */
export function createGateway(config: GatewayConfig, logger: Logger): Gateway {
  const keys = createKeys(config.REDIS_KEY_PREFIX);
  const cmd = new Redis(config.REDIS_URL, {
    maxRetriesPerRequest: 3,
    enableAutoPipelining: true,
    connectionName: `${config.GATEWAY_ID}:cmd`,
  });
  // No ready check on the subscriber: the adapter queues SSUBSCRIBEs before the connection is up, and
  // ioredis's INFO ready check would then fail in subscriber mode and drop the connection.
  const sub = new Redis(config.REDIS_URL, { enableReadyCheck: false, connectionName: `${config.GATEWAY_ID}:sub` });
  const queueConn = new Redis(config.REDIS_URL, { maxRetriesPerRequest: 3, connectionName: `${config.GATEWAY_ID}:queue` });
  let draining = false;
  const redisUp = () => cmd.status === "ready" && sub.status === "ready";
  let io: GatewayServer | undefined;
  const heldRooms = () => {
    let n = 0;
    for (const room of io?.of("/").adapter.rooms.keys() ?? [])
      if (room.startsWith(TASK_ROOM_PREFIX) || room.startsWith(USER_ROOM_PREFIX)) n++;
    return n;
  };
  const connections = () => io?.of("/").sockets.size ?? 0;
  const metrics = createGatewayMetrics(config.GATEWAY_ID, { connections, rooms: heldRooms, redisUp });
  const silentFailure = metrics.silentFailures.inc;
  const redisClients = [
    ["cmd", cmd],
    ["sub", sub],
    ["queue", queueConn],
  ] as const;
  const redisOutages = watchRedisOutages(redisClients, { onOutage: () => silentFailure("redis_error"), logger });
  // A blackholed connection stays "ready" for hours: PING each one, reconnect those that do not answer.
  const redisLiveness = watchRedisLiveness(redisClients, {
    intervalMs: config.REDIS_PING_INTERVAL_MS,
    timeoutMs: config.REDIS_PING_TIMEOUT_MS,
    logger,
  });
  const tasks = new TaskStore(cmd, { keys, historyTtlSeconds: config.HISTORY_TTL_SECONDS });
  const eventLog = new EventLog(cmd, keys);
  const queue = new Queue<RunJobData>(RUN_QUEUE_NAME, { connection: queueConn, prefix: keys.queuePrefix });
  queue.on("error", (err) => logger.warn({ err: err.message }, "queue error"));
  const registry = new GatewayRegistry(
    cmd,
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
  const userLimits = new UserLimits(cmd, keys.prefix, config.RATE_LIMIT_USER_COMMANDS_PER_MIN, config.MAX_CONNECTIONS_PER_USER);
  const classifyError = () => (redisUp() ? ("internal_error" as const) : ("unavailable" as const));
  const confirmRoom = async (room: string): Promise<void> => {
    await withTimeout(sub.ssubscribe(roomChannel(room)), ROOM_CONFIRM_TIMEOUT_MS, "room subscription");
  };
  const watchAnswer = (taskId: string, questionId: string) => {
    setTimeout(() => {
      tasks.isAnswerPending(taskId, questionId).then(
        (pending) => {
          if (!pending) return;
          silentFailure("ack_timeout");
          logger.warn({ taskId, questionId, afterMs: config.USER_RESPONSE_TIMEOUT_MS }, "user_response not consumed by any run");
        },
        (err: unknown) => logger.debug({ err }, "answer check failed"),
      );
    }, config.USER_RESPONSE_TIMEOUT_MS).unref();
  };

  const runs = new RunService({
    tasks,
    queue,
    messageIds: new MessageIds(cmd, keys, config.HISTORY_TTL_SECONDS),
    notifyTaskCreated: (userId, notice) => io?.to(userRoom(userId)).emit("task_created", notice),
    logger,
  });
  const httpServer = createServer(
    createHttpApi({
      gatewayId: config.GATEWAY_ID,
      verifyToken,
      onAuthFailure: (code) => metrics.authFailures.inc({ code }),
      tasks,
      eventLog,
      runs,
      stats: async () => ({ gateways: await registry.list(), queue: await queue.getJobCounts() }),
      isReady: () => ({ ready: redisUp() && !draining, redis: redisUp(), draining }),
      classifyError,
      corsOrigins: config.CORS_ORIGINS,
      ...(config.WEB_ROOT ? { staticFiles: createStaticFiles(config.WEB_ROOT) } : {}),
      logger,
    }),
  );
  const server: GatewayServer = new Server(httpServer, {
    path: "/socket.io",
    serveClient: false,
    maxHttpBufferSize: LIMITS.maxMessageBytes,
    // Before every handshake and upgrade: draining, origin allowlist, per-IP connection rate.
    allowRequest: createHandshakeGuard({
      origins: config.CORS_ORIGINS,
      trustProxy: config.TRUST_PROXY,
      perIp: new KeyedBuckets(config.CONNECT_RATE_PER_IP_PER_SEC, config.CONNECT_BURST_PER_IP),
      isDraining: () => draining,
      onRefused: (why) => {
        if (why !== "draining") metrics.limits.inc({ limit: why === "origin" ? "origin" : "connections_per_ip" });
      },
    }),
    ...(config.CORS_ORIGINS.length > 0 ? { cors: { origin: config.CORS_ORIGINS.includes("*") ? true : [...config.CORS_ORIGINS] } } : {}),
  });
  io = server;
  const subscriptions = new TaskSubscriptions({
    nsp: server.of("/"),
    eventLog,
    confirmRoom,
    readPosition: (taskId) => eventLog.position(taskId),
    logger,
    onDelivered: (event, replayed) =>
      metrics.deliveries.count(event.type, replayed, replayed ? undefined : Math.max(0, Date.now() - event.ts) / 1000),
    onProblem: silentFailure,
    maxSubscriptionsPerSocket: config.MAX_SUBSCRIPTIONS_PER_SOCKET,
    maxOutboundBytes: config.MAX_OUTBOUND_BUFFER_BYTES,
    onSlowConsumer: () => metrics.limits.inc({ limit: "slow_consumer" }),
  });
  // After the subscriber connection comes back (Redis restart, or Redis dropping a subscriber that
  // fell behind its pubsub output buffer), resync every subscription from history.
  let subReadyBefore = false;
  sub.on("ready", () => {
    if (subReadyBefore) subscriptions.resyncAll();
    subReadyBefore = true;
  });
  server.adapter(createTaskEventAdapter(cmd, sub, (taskId, room, envelope) => subscriptions.onLiveEvent(taskId, room, envelope)));
  server.use(
    socketAuth(
      verifyToken,
      (code) => (code === "limit_exceeded" ? metrics.limits.inc({ limit: "connections_per_user" }) : metrics.authFailures.inc({ code })),
      (userId, socket) => userLimits.openConnection(userId, socket.id),
    ),
  );
  server.on("connection", (socket) =>
    onConnection(socket, {
      gatewayId: config.GATEWAY_ID,
      logger,
      metrics,
      classifyError,
      confirmRoom,
      tasks,
      subscriptions,
      runs,
      silentFailure,
      watchAnswer,
      verifyToken,
      userLimits,
      commandRate: { perSec: config.RATE_LIMIT_COMMANDS_PER_SEC, burst: config.RATE_LIMIT_COMMANDS_BURST },
      clockSkewSeconds: config.JWT_CLOCK_SKEW_SECONDS,
    }),
  );

  // Connection leases for the per-user cap lapse after 60 s unless renewed: a crashed gateway's
  // connections stop counting on their own.
  const renewLeases = () => {
    const live: [string, string][] = [...server.of("/").sockets.values()].map((s) => [(s.data as { userId: string }).userId, s.id]);
    void userLimits.renew(live).catch((err: unknown) => logger.debug({ err }, "lease renewal failed"));
  };
  let leaseTimer: NodeJS.Timeout | undefined;
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
      leaseTimer = setInterval(renewLeases, 20_000);
      leaseTimer.unref();
      logger.info({ port, metricsPort: m.port }, "gateway listening");
      return { port, metricsPort: m.port };
    },
    async stop() {
      draining = true; // readyz → 503, new handshakes refused
      clearInterval(leaseTimer);
      await drainSockets(server.of("/"), { windowMs: config.DRAIN_WINDOW_MS, gatewayId: config.GATEWAY_ID, logger });
      await registry.stop();
      await server.close();
      metricsServer?.close();
      redisOutages.stop(); // the connections close on purpose from here on
      redisLiveness.stop();
      await queue.close().catch(() => {});
      for (const [, client] of redisClients) client.disconnect();
    },
  };
}
