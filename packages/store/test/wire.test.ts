import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { type EventEnvelope, taskRoom } from "@agentcast/protocol";
import { type RedisServerHandle, startRedisServer, until } from "@agentcast/testkit";
import { createShardedAdapter } from "@socket.io/redis-adapter";
import { Redis } from "ioredis";
import { Server } from "socket.io";
import { type Socket as ClientSocket, io as connect } from "socket.io-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { broadcastFrame, createKeys, EventLog, EventPublisher, StaleRunError, TaskStore } from "../src/index.js";

/**
 * Pins our publisher's wire format against the installed @socket.io/redis-adapter: a stock
 * Socket.IO server with the stock sharded adapter (dynamic mode) must deliver what we SPUBLISH.
 */
describe("publisher ↔ installed sharded adapter", () => {
  let redis: RedisServerHandle;
  let server: Server;
  let url: string;
  const clients: Redis[] = [];
  const sockets: ClientSocket[] = [];
  const keys = createKeys(`wire${process.pid}`);
  let cmd: Redis;
  let sub: Redis;

  beforeAll(async () => {
    redis = await startRedisServer();
    cmd = new Redis(redis.url);
    sub = new Redis(redis.url, { enableReadyCheck: false }); // as the gateway does
    clients.push(cmd, sub);
    const http = createServer();
    server = new Server(http, { adapter: createShardedAdapter(cmd, sub, { subscriptionMode: "dynamic" }) });
    server.on("connection", (socket) => {
      const room = socket.handshake.query.room as string;
      socket.join(room);
      // Wait until the adapter's SSUBSCRIBE for the room is processed, then tell the client.
      void sub.ssubscribe(`socket.io#/#${room}#`).then(() => socket.emit("joined"));
    });
    await new Promise<void>((r) => http.listen(0, "127.0.0.1", () => r()));
    url = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    for (const s of sockets) s.disconnect();
    await new Promise<void>((r) => server.close(() => r()));
    // QUIT, not disconnect: closing the server made the adapter SUNSUBSCRIBE its rooms without awaiting;
    // QUIT runs after those replies, where a disconnect rejects them ("Connection is closed", unhandled).
    await Promise.all(clients.map((c) => c.quit()));
    await redis[Symbol.asyncDispose]();
  });

  const joinRoom = async (room: string) => {
    const socket = connect(url, { transports: ["websocket"], query: { room } });
    sockets.push(socket);
    const received: unknown[] = [];
    socket.on("event", (e: unknown) => received.push(e));
    await new Promise<void>((r) => socket.once("joined", () => r()));
    return { socket, received };
  };

  it("a raw frame SPUBLISHed on the room's shard channel reaches the socket in that room, with the exact JSON", async () => {
    const room = taskRoom("t_rawframe");
    const { received } = await joinRoom(room);
    const frame = broadcastFrame(room, "event");
    const payload = { hello: "world", n: 1.5, nested: { a: [1, 2, 3] } };
    expect(await cmd.spublish(frame.channel, frame.prefix + JSON.stringify(payload) + frame.suffix)).toBe(1);
    await until("the raw frame", () => received.length === 1, 5_000, 10);
    expect(received[0]).toEqual(payload);
  });

  it("EventPublisher: seq from 1, history order = delivery order, receivers counted, stale runs refused", async () => {
    const tasks = new TaskStore(cmd, { keys, historyTtlSeconds: 60 });
    const publisher = new EventPublisher(cmd, { keys, historyMaxLen: 1000, historyTtlSeconds: 60 });
    const log = new EventLog(cmd, keys);
    const { taskId, runId } = await tasks.createTask("u1", "hello");
    const { received } = await joinRoom(taskRoom(taskId));
    const base = { taskId, runId, userId: "u1" };
    const p1 = await publisher.publish({ ...base, type: "agent_started", data: { input: "hello" } });
    const p2 = await publisher.publish({ ...base, type: "agent_output", data: { delta: 'hi "there" ✓' } });
    expect([p1.envelope.seq, p2.envelope.seq]).toEqual([1, 2]);
    expect(p1.receivers).toBe(1);
    expect((await tasks.getTask(taskId))?.status).toBe("running");
    await until("two events", () => received.length === 2, 5_000, 10);
    expect(received).toEqual([p1.envelope, p2.envelope]);
    expect(await log.readAfter(taskId, 0, 10)).toEqual([p1.envelope, p2.envelope]);
    expect(await log.readAfter(taskId, 1, 10)).toEqual([p2.envelope]);
    expect(await log.position(taskId)).toEqual({ lastSeq: 2, firstSeq: 1, foldedThrough: 0 });

    await expect(publisher.publish({ ...base, runId: "r_other", type: "agent_output", data: { delta: "x" } })).rejects.toBeInstanceOf(
      StaleRunError,
    );
    const end = await publisher.publish({ ...base, type: "agent_completed", data: { status: "succeeded" } });
    expect(end.envelope.seq).toBe(3);
    const task = await tasks.getTask(taskId);
    expect(task).toMatchObject({ status: "succeeded", lastSeq: 3 });
    await expect(publisher.publish({ ...base, type: "agent_output", data: { delta: "late" } })).rejects.toMatchObject({ reason: "ended" });
    // Published while nobody holds the room: kept in history, 0 receivers.
    const next = await tasks.startRun("u1", taskId);
    if (!next.ok) throw new Error("startRun");
    for (const s of sockets) s.disconnect();
    await until("room deleted", () => server.of("/").adapter.rooms.get(taskRoom(taskId)) === undefined, 5_000, 10);
    const unwatched = await publisher.publish({ ...base, runId: next.runId, type: "agent_started", data: { input: "again" } });
    expect(unwatched.receivers).toBe(0);
    expect((await log.readAfter(taskId, 3, 10)).map((e: EventEnvelope) => e.seq)).toEqual([4]);
  });

  it("the publish script is idempotent per position (a retry after a lost reply publishes nothing)", async () => {
    const tasks = new TaskStore(cmd, { keys, historyTtlSeconds: 60 });
    const { taskId, runId } = await tasks.createTask("u2", "idempotent");
    const publisher = new EventPublisher(cmd, { keys, historyMaxLen: 1000, historyTtlSeconds: 60 });
    await publisher.publish({
      taskId,
      runId,
      userId: "u2",
      type: "agent_started",
      data: { input: "x" },
      position: { owner: "w1", index: 0 },
    });
    const frame = broadcastFrame(taskRoom(taskId), "event");
    const args = [
      keys.task(taskId),
      keys.events(taskId),
      keys.question(taskId),
      keys.snapshots(taskId),
      runId,
      "agent_output",
      '{"v":1,"id":"e1","seq":',
      ',"type":"agent_output"}',
      frame.prefix,
      frame.suffix,
      frame.channel,
      100,
      60,
      Date.now(),
      "",
      "",
      "w1",
      1,
      "1",
      0,
    ];
    const scripted = cmd as unknown as { acPublishEvents(...a: unknown[]): Promise<number[]> };
    const first = await scripted.acPublishEvents(4, ...args);
    const retry = await scripted.acPublishEvents(4, ...args);
    expect(first[0]).toBe(2);
    expect(retry).toEqual([2, -3, 0]);
    expect(await cmd.xlen(keys.events(taskId))).toBe(2);
  });
});
