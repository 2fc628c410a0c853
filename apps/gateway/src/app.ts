import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { type ClientToServerEvents, type ErrorCode, LIMITS, type ServerToClientEvents, userRoom } from "@agentcast/protocol";
import { startMetricsServer, withTimeout } from "@agentcast/runtime";
import { createKeys, EventLog, RUN_QUEUE_NAME, type RunJobData, TaskStore } from "@agentcast/store";
import { Queue } from "bullmq";
import { Redis } from "ioredis";
import type { Logger } from "pino";
import { Server, type Socket } from "socket.io";
import { createTaskEventAdapter, roomChannel } from "./adapter/task-event-adapter.js";
import { socketAuth } from "./auth/socket-auth.js";
import { createTokenVerifier } from "./auth/token-verifier.js";
import { attachCommands } from "./commands/dispatch.js";
import type { GatewayConfig } from "./config.js";
import { createHttpApi } from "./http/http-api.js";
import { createGatewayMetrics } from "./metrics/gateway-metrics.js";
import { RunService } from "./runs/run-service.js";
import { TaskSubscriptions } from "./subscriptions/task-subscriptions.js";

export interface SocketData {
  userId: string;
}
type GatewayServer = Server<ClientToServerEvents, ServerToClientEvents, Record<string, never>, SocketData>;

const ROOM_CONFIRM_TIMEOUT_MS = 5_000;

export interface Gateway {
  /** Listens on PORT and METRICS_PORT; resolves with the bound ports. */
  start(): Promise<{ port: number; metricsPort: number }>;
  stop(): Promise<void>;
}

/** The one wiring place: Redis clients, Socket.IO with the task-aware sharded adapter, commands, HTTP. */
export function createGateway(config: GatewayConfig, logger: Logger): Gateway {
  const keys = createKeys(config.REDIS_KEY_PREFIX);
  const redisOpts = { maxRetriesPerRequest: 3, enableAutoPipelining: true };
  const cmd = new Redis(config.REDIS_URL, { ...redisOpts, connectionName: `${config.GATEWAY_ID}:cmd` });
  // No ready check on the subscriber: the adapter queues SSUBSCRIBEs before the connection is up, and
  // ioredis's INFO ready check would then fail in subscriber mode and drop the connection.
  const sub = new Redis(config.REDIS_URL, { enableReadyCheck: false, connectionName: `${config.GATEWAY_ID}:sub` });
  const queueConn = new Redis(config.REDIS_URL, { maxRetriesPerRequest: 3, connectionName: `${config.GATEWAY_ID}:queue` });
  for (const [name, client] of [
    ["cmd", cmd],
    ["sub", sub],
    ["queue", queueConn],
  ] as const) {
    client.on("error", (err) => logger.warn({ err: err.message, client: name }, "redis error"));
  }
  const metrics = createGatewayMetrics(config.GATEWAY_ID);
  const tasks = new TaskStore(cmd, { keys, historyTtlSeconds: config.HISTORY_TTL_SECONDS });
  const eventLog = new EventLog(cmd, keys);
  const queue = new Queue<RunJobData>(RUN_QUEUE_NAME, { connection: queueConn, prefix: keys.queuePrefix });
  queue.on("error", (err) => logger.warn({ err: err.message }, "queue error"));
  const verifyToken = createTokenVerifier({
    secret: config.JWT_SECRET,
    publicKeyPem: config.JWT_PUBLIC_KEY,
    issuer: config.JWT_ISSUER,
    audience: config.JWT_AUDIENCE,
  });
  let draining = false;
  const redisUp = () => cmd.status === "ready" && sub.status === "ready";
  const isReady = () => ({ ready: redisUp() && !draining, redis: redisUp(), draining });

  const confirmRoom = async (room: string): Promise<void> => {
    await withTimeout(sub.ssubscribe(roomChannel(room)), ROOM_CONFIRM_TIMEOUT_MS, "room subscription");
  };
  let subscriptions: TaskSubscriptions | undefined;
  const runs = new RunService({
    tasks,
    queue,
    notifyTaskCreated: (userId, notice) => io.to(userRoom(userId)).emit("task_created", notice),
    logger,
  });
  const httpServer = createServer(
    createHttpApi({ gatewayId: config.GATEWAY_ID, verifyToken, tasks, eventLog, runs, isReady, corsOrigins: config.CORS_ORIGINS, logger }),
  );
  const io: GatewayServer = new Server(httpServer, {
    path: "/socket.io",
    serveClient: false,
    maxHttpBufferSize: LIMITS.maxMessageBytes,
    ...(config.CORS_ORIGINS.length > 0 ? { cors: { origin: config.CORS_ORIGINS.includes("*") ? true : [...config.CORS_ORIGINS] } } : {}),
  });
  io.adapter(createTaskEventAdapter(cmd, sub, (taskId, room, envelope) => subscriptions?.onLiveEvent(taskId, room, envelope)));
  subscriptions = new TaskSubscriptions({
    nsp: io.of("/"),
    eventLog,
    confirmRoom,
    readPosition: (taskId) => eventLog.position(taskId),
    logger,
    onDelivered: (envelope, replayed) => {
      metrics.eventsDelivered.inc({ type: envelope.type });
      if (replayed) metrics.eventsReplayed.inc();
    },
  });
  const subs = subscriptions;
  io.use(socketAuth(verifyToken, (code) => metrics.authFailures.inc({ code })));

  io.on("connection", (socket: Socket) => {
    const userId = (socket.data as SocketData).userId;
    const log = logger.child({ connectionId: socket.id, userId });
    metrics.connections.inc();
    metrics.connectionsOpened.inc();
    const openedAt = Date.now();
    socket.on("disconnect", (reason) => {
      metrics.connections.dec();
      subs.dropSocket(socket.id);
      log.info({ reason, durationMs: Date.now() - openedAt }, "connection closed");
    });
    attachCommands(
      { socket, userId, logger: log, tasks, subscriptions: subs, runs },
      {
        onCommand: (command, outcome) => metrics.commands.inc({ command, outcome }),
        classifyError: (): ErrorCode => (redisUp() ? "internal_error" : "unavailable"),
      },
    );
    const room = userRoom(userId);
    socket.join(room);
    // Confirmed before connection_established, so task_created notices published after it arrive.
    confirmRoom(room)
      .catch((err) => log.warn({ err }, "user room subscription not confirmed"))
      .finally(() => {
        if (!socket.connected) return;
        socket.emit("connection_established", { connectionId: socket.id, userId, gatewayId: config.GATEWAY_ID, protocol: 1 });
        log.info({ transport: socket.conn.transport.name }, "connection opened");
      });
  });

  let metricsServer: Awaited<ReturnType<typeof startMetricsServer>>["server"] | undefined;
  return {
    async start() {
      await new Promise<void>((resolve, reject) => {
        httpServer.once("error", reject);
        httpServer.listen(config.PORT, config.HOST, () => resolve());
      });
      const port = (httpServer.address() as AddressInfo).port;
      const m = await startMetricsServer(metrics.registry, config.METRICS_PORT, config.HOST);
      metricsServer = m.server;
      logger.info({ port, metricsPort: m.port }, "gateway listening");
      return { port, metricsPort: m.port };
    },
    async stop() {
      draining = true;
      await io.close();
      metricsServer?.close();
      await queue.close().catch(() => {});
      for (const client of [cmd, sub, queueConn]) client.disconnect();
    },
  };
}
