import { createClient } from "@agentcast/client";
import type { EventEnvelope } from "@agentcast/protocol";
import { createKeys, EventPublisher, TaskStore } from "@agentcast/store";
import { signDevToken } from "@agentcast/testkit";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { type Stack, startStack } from "./fixture.js";
import { scrape, value } from "./metrics.js";

/** A bare Socket.IO client over ws that subscribes to a task and can stop reading its socket. */
async function rawSubscriber(url: string, token: string, taskId: string): Promise<WebSocket> {
  const ws = new WebSocket(`${url.replace("http", "ws")}/socket.io/?EIO=4&transport=websocket`);
  await new Promise<void>((resolve, reject) => {
    ws.on("message", (data) => {
      const msg = data.toString();
      if (msg.startsWith("0")) ws.send(`40${JSON.stringify({ token })}`);
      else if (msg.startsWith("42") && msg.includes("connection_established")) ws.send(`420${JSON.stringify(["subscribe", { taskId }])}`);
      else if (msg.startsWith("430")) resolve();
      else if (msg === "2") ws.send("3");
    });
    ws.once("error", reject);
  });
  return ws;
}

describe("slow consumers", () => {
  let stack: Stack;
  let redis: Redis;
  beforeAll(async () => {
    stack = await startStack({
      gateways: 1,
      workers: 0,
      gatewayEnv: { CONNECT_BURST_PER_IP: "1000", MAX_CONNECTIONS_PER_USER: "200" },
    });
    redis = new Redis(stack.redis.url);
  });
  afterAll(async () => {
    redis?.disconnect();
    await stack?.stop();
  });

  it("100 sockets that stop reading are closed as slow consumers; gateway RSS stays flat; readers get everything", {
    timeout: 120_000,
  }, async () => {
    const keys = createKeys("ac");
    const tasks = new TaskStore(redis, { keys, historyTtlSeconds: 600 });
    const publisher = new EventPublisher(redis, { keys, historyMaxLen: 100_000, historyTtlSeconds: 600 });
    const { taskId, runId } = await tasks.createTask("slow-user", "a flood");
    await publisher.publish({ taskId, runId, userId: "slow-user", type: "agent_started", data: { input: "flood" } });
    const token = await signDevToken("slow-user");
    const url = stack.gateways[0]?.url ?? "";
    const stalled = await Promise.all(Array.from({ length: 100 }, () => rawSubscriber(url, token, taskId)));
    // A real reader uses the SDK: if it, too, falls behind and is closed, it resumes from history.
    const reader = createClient({ url, token, transports: ["websocket"], reconnectDelayMs: 100 });
    let readerDrops = 0; // times the reader lost its connection (closed as a slow consumer too) and reconnected
    reader.on("state", (state) => {
      if (state === "reconnecting") readerDrops++;
    });
    const handle = reader.subscribe(taskId);
    const received: EventEnvelope[] = [];
    const ended = new Promise<void>((resolve) =>
      handle.on("*", (e) => {
        received.push(e);
        if (e.type === "agent_completed") resolve();
      }),
    );
    await handle.next();
    for (const ws of stalled) (ws as unknown as { _socket: { pause(): void } })._socket.pause(); // stop reading

    const before = await scrape(stack.gateways[0]?.metricsPort ?? 0);
    const delta = "x".repeat(50_000);
    for (let i = 0; i < 1_000; i++) await publisher.publish({ taskId, runId, userId: "slow-user", type: "agent_output", data: { delta } });
    await publisher.publish({ taskId, runId, userId: "slow-user", type: "agent_completed", data: { status: "succeeded" } });
    await ended;
    const run = received;
    reader.close();
    const after = await scrape(stack.gateways[0]?.metricsPort ?? 0);

    expect(run.map((e) => e.seq)).toEqual(run.map((_, i) => i + 1));
    expect(run).toHaveLength(1_002);
    const closed =
      value(after, "agentcast_gateway_limits_total", { limit: "slow_consumer" }) -
      value(before, "agentcast_gateway_limits_total", { limit: "slow_consumer" });
    // Every stalled socket was closed, and the SDK reader each time it lost its connection (then it resumed).
    expect(closed).toBe(stalled.length + readerDrops);
    const rssGrowth = value(after, "process_resident_memory_bytes") - value(before, "process_resident_memory_bytes");
    // 50 MB went to each of 100 stalled sockets: 5 GB if the gateway buffered it. The bound (1 MiB per
    // socket) and one shared frame per event keep growth to what GC lag and allocator slack leave
    // (measured 90–110 MB); a leak of even 5 % of what was sent would exceed this.
    expect(rssGrowth).toBeLessThan(250 * 1024 * 1024);

    // Closed, not just counted: a stalled socket is gone within SLOW_CONSUMER_CLOSE_MS (1 s) of crossing
    // the bound — Engine.IO's graceful close would wait for a drain a paused client never sends, and the
    // connection would linger until the heartbeat timed out (45 s). The flood took longer than the bound,
    // so by now only the reader may be connected.
    const connections = async () => value(await scrape(stack.gateways[0]?.metricsPort ?? 0), "agentcast_gateway_connections");
    await expect.poll(connections, { timeout: 3_000, interval: 100 }).toBe(0);
    // And their TCP connections were closed by the gateway: once a stalled client reads again, it finds the end.
    const tcpClosed = stalled.map((ws) => new Promise<void>((resolve) => ws.once("close", () => resolve())));
    for (const ws of stalled) (ws as unknown as { _socket: { resume(): void } })._socket.resume();
    let closedCount = 0;
    for (const e of tcpClosed) void e.then(() => closedCount++);
    await expect.poll(() => closedCount, { timeout: 5_000, interval: 100 }).toBe(stalled.length);
  });

  it("a socket that reads slower than its replay of a 16 MB history gets all of it and is not closed", { timeout: 90_000 }, async () => {
    const keys = createKeys("ac");
    const tasks = new TaskStore(redis, { keys, historyTtlSeconds: 600 });
    const publisher = new EventPublisher(redis, { keys, historyMaxLen: 100_000, historyTtlSeconds: 600 });
    const { taskId, runId } = await tasks.createTask("slow-replay", "a long history");
    await publisher.publish({ taskId, runId, userId: "slow-replay", type: "agent_started", data: { input: "flood" } });
    const delta = "x".repeat(8_192);
    for (let i = 0; i < 2_000; i++)
      await publisher.publish({ taskId, runId, userId: "slow-replay", type: "agent_output", data: { delta } });
    const token = await signDevToken("slow-replay");
    const port = stack.gateways[0]?.metricsPort ?? 0;
    const slowBefore = value(await scrape(port), "agentcast_gateway_limits_total", { limit: "slow_consumer" });

    // A bare client that stops reading its TCP socket for 20 ms after every websocket message.
    const url = stack.gateways[0]?.url ?? "";
    const ws = new WebSocket(`${url.replace("http", "ws")}/socket.io/?EIO=4&transport=websocket`);
    const tcp = () => (ws as unknown as { _socket: { pause(): void; resume(): void } })._socket;
    const seqs: number[] = [];
    let closed = false;
    ws.on("close", () => {
      closed = true;
    });
    ws.on("error", () => {});
    ws.on("message", (data) => {
      const msg = data.toString();
      if (msg.startsWith("0")) ws.send(`40${JSON.stringify({ token })}`);
      else if (msg.startsWith("42") && msg.includes("connection_established")) ws.send(`420${JSON.stringify(["subscribe", { taskId }])}`);
      else if (msg === "2") ws.send("3");
      else if (msg.startsWith('42["event"')) {
        seqs.push((JSON.parse(msg.slice(2)) as [string, EventEnvelope])[1].seq);
        tcp().pause();
        // Pacing, not waiting: being slower than the replay is what this reader is for.
        setTimeout(() => tcp().resume(), 20);
      }
    });
    await expect.poll(() => seqs.length >= 2_001 || closed, { timeout: 60_000, interval: 100 }).toBe(true);
    ws.close();
    expect(closed).toBe(false);
    expect(seqs).toEqual(Array.from({ length: 2_001 }, (_, i) => i + 1));
    expect(value(await scrape(port), "agentcast_gateway_limits_total", { limit: "slow_consumer" })).toBe(slowBefore);
  });
});
