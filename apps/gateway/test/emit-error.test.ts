// emit_error cannot be induced from outside a gateway: every envelope it writes was parsed from JSON
// (so it serializes), and a websocket that fails reports it later through a callback (a disconnect),
// not by throwing. So this runs the real write path in-process — real Redis and publish script, the
// real task-event adapter and TaskSubscriptions, a real Socket.IO server on port 0 and real clients —
// and breaks only the underlying Engine.IO transport's write of one connection, below all our code.
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import type { EventEnvelope } from "@agentcast/protocol";
import { createSupervisor, startMetricsServer } from "@agentcast/runtime";
import { createKeys, EventLog, EventPublisher, TaskStore } from "@agentcast/store";
import { type RedisServerHandle, startRedisServer, until } from "@agentcast/testkit";
import { Redis } from "ioredis";
import { pino } from "pino";
import { Server, type Socket } from "socket.io";
import { type Socket as ClientSocket, io as connect } from "socket.io-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { CommandContext } from "../src/commands/context.js";
import { handlers } from "../src/commands/handlers.js";
import { BACKGROUND_JOBS, createGatewayMetrics } from "../src/metrics/gateway-metrics.js";
import type { SubscriptionRegistry } from "../src/subscriptions/subscription-registry.js";
import { createTaskDelivery } from "../src/subscriptions/task-delivery.js";
import { scrape, value } from "./metrics.js";

describe("emit_error: a socket whose transport write throws", () => {
  let redis: RedisServerHandle;
  let cmd: Redis;
  let sub: Redis;
  let io: Server;
  let url: string;
  let metricsPort: number;
  let closeMetrics: () => void;
  let subscriptions: SubscriptionRegistry;
  let taskId: string;
  let runId: string;
  const logs: Record<string, unknown>[] = [];
  const clients: ClientSocket[] = [];
  const keys = createKeys();

  const metrics = () => scrape(metricsPort);
  const emitErrors = (m: Map<string, number>) => value(m, "agentcast_silent_failures_total", { component: "gateway", kind: "emit_error" });
  const delivered = (m: Map<string, number>) => value(m, "agentcast_gateway_events_delivered_total", { type: "agent_thinking" });
  const publish = (text: string) =>
    new EventPublisher(cmd, { keys, historyMaxLen: 1_000, historyTtlSeconds: 3_600 })
      .publish({ taskId, runId, userId: "ivy", type: "agent_thinking", data: { text } })
      .then((r) => r.envelope);

  /** A connected client, its server-side socket, and the events it received. */
  const open = async () => {
    const c = connect(url, { transports: ["websocket"], forceNew: true, reconnection: false });
    clients.push(c);
    const events: EventEnvelope[] = [];
    c.on("event", (e: EventEnvelope) => events.push(e));
    const closed = new Promise<string>((resolve) => c.once("disconnect", resolve));
    await new Promise<void>((resolve, reject) => {
      c.once("connect", resolve);
      c.once("connect_error", reject);
    });
    const s = io.of("/").sockets.get(c.id ?? "") as Socket;
    const seen = (seq: number) =>
      new Promise<void>((resolve) => {
        const check = () => (events.some((e) => e.seq === seq) ? resolve() : setTimeout(check, 10));
        check();
      });
    return { c, s, events, closed, seen };
  };

  beforeAll(async () => {
    redis = await startRedisServer();
    cmd = new Redis(redis.url);
    sub = new Redis(redis.url, { enableReadyCheck: false });
    const http = createServer();
    io = new Server(http, { transports: ["websocket"] });
    const registry = createGatewayMetrics("gw-unit", { connections: () => io.of("/").sockets.size, rooms: () => 0, redisUp: () => true });
    const m = await startMetricsServer(registry.registry, 0, "127.0.0.1");
    metricsPort = m.port;
    closeMetrics = () => m.server.close();
    const eventLog = new EventLog(cmd, keys);
    const tasks = new TaskStore(cmd, { keys, historyTtlSeconds: 3_600 });
    const logger = pino({ level: "info" }, { write: (line: string) => void logs.push(JSON.parse(line)) });
    const supervisor = createSupervisor({ registry: registry.registry, metricPrefix: "agentcast_gateway", jobs: BACKGROUND_JOBS, logger });
    // Task delivery wired by the same function src/app.ts uses; `subscribe` runs the gateway's own handler.
    const delivery = createTaskDelivery({
      server: io,
      cmd,
      sub,
      onSubscriptionsMoved: () => {},
      eventLog,
      metrics: registry,
      supervisor,
      logger,
      maxSubscriptionsPerSocket: 10,
      maxOutboundBytes: 1_048_576,
    });
    subscriptions = delivery.registry;
    io.on("connection", (socket) => {
      const ctx = {
        socket,
        viewer: subscriptions.viewerOf(socket),
        userId: "ivy",
        logger,
        tasks,
        subscriptions,
      } as Partial<CommandContext> as CommandContext;
      socket.on("subscribe", async (sinceSeq: number, ack: (lastSeq: number) => void) => {
        const { body } = await handlers.subscribe(ctx, { taskId, sinceSeq });
        ack(body.lastSeq);
      });
      socket.on("disconnect", () => subscriptions.dropViewer(socket.id));
    });
    await new Promise<void>((r) => http.listen(0, "127.0.0.1", r));
    url = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
    ({ taskId, runId } = await new TaskStore(cmd, { keys, historyTtlSeconds: 3_600 }).createTask("ivy", "emit errors"));
    await new EventPublisher(cmd, { keys, historyMaxLen: 1_000, historyTtlSeconds: 3_600 }).publish({
      taskId,
      runId,
      userId: "ivy",
      type: "agent_started",
      data: { input: "emit errors" },
    });
    for (const text of ["one", "two"]) await publish(text);
  });
  afterAll(async () => {
    for (const c of clients) c.close();
    await io?.close();
    closeMetrics?.();
    // quit, not disconnect: the adapter's closing SUNSUBSCRIBEs are still in flight on `sub`, and a
    // disconnect would reject them as unhandled errors.
    await Promise.allSettled([cmd?.quit(), sub?.quit()]);
    await redis?.[Symbol.asyncDispose]();
  });

  it("counts emit_error once, closes that connection, counts nothing as delivered; the client resumes from history", async () => {
    const a = await open();
    expect(await a.c.timeout(5_000).emitWithAck("subscribe", 0)).toBe(3);
    await a.seen(3);
    const before = await metrics();
    // Break this connection's transport: its next write throws (as a write to a torn socket might).
    const transport = a.s.conn.transport as unknown as { send: (packets: unknown[]) => void };
    transport.send = () => {
      throw new Error("write EPIPE (injected below Engine.IO)");
    };
    const bystander = await open();
    expect(await bystander.c.timeout(5_000).emitWithAck("subscribe", 3)).toBe(3);

    const fourth = await publish("three");
    expect(await a.closed).toBe("transport close");
    await bystander.seen(4); // the same live event reached the healthy socket
    const after = await metrics();
    expect(emitErrors(after) - emitErrors(before)).toBe(1);
    expect(delivered(after) - delivered(before)).toBe(1); // the bystander's copy only
    expect(a.events.map((e) => e.seq)).toEqual([1, 2, 3]);
    expect(subscriptions.has(a.s.id, taskId)).toBe(false);
    const line = logs.find((l) => l.msg === "emit failed; closing the connection so the client resumes");
    expect(line).toMatchObject({
      level: 50,
      taskId,
      seq: fourth.seq,
      socketId: a.s.id,
      err: { message: expect.stringContaining("EPIPE") },
    });

    // Reconnecting with its last seq, the client gets what it missed from history, nothing twice.
    const resumed = await open();
    expect(await resumed.c.timeout(5_000).emitWithAck("subscribe", 3)).toBe(4);
    await resumed.seen(4);
    expect(resumed.events).toEqual([fourth]);
    expect(emitErrors(await metrics()) - emitErrors(before)).toBe(1);
    for (const c of clients.splice(0)) c.close();
    await until("every server socket of this test to close", () => io.of("/").sockets.size === 0, 5_000, 10);
  });

  it("a socket whose connection is already closing gets nothing: no emit_error, nothing counted as delivered", async () => {
    const b = await open();
    expect(await b.c.timeout(5_000).emitWithAck("subscribe", 4)).toBe(4);
    const before = await metrics();
    // Hold writes (a transport busy writing), queue one packet, then start a graceful close: Engine.IO waits
    // for the queue to drain before it closes, so the connection sits in "closing".
    (b.s.conn.transport as unknown as { writable: boolean }).writable = false;
    b.s.emit("note", "queued behind a busy transport");
    b.s.conn.close();
    expect(b.s.conn.readyState).toBe("closing");
    await publish("four");
    await until("the closing socket's subscription to be closed", () => !subscriptions.has(b.s.id, taskId), 5_000, 10);
    const after = await metrics();
    expect(delivered(after) - delivered(before)).toBe(0);
    expect(emitErrors(after) - emitErrors(before)).toBe(0);
    b.s.conn.close(true);
  });
});
