// Chaos: one gateway is cut off from Redis (a TCP proxy between them drops every connection and
// refuses new ones for a while) mid-run, while the other gateway and the worker keep their Redis.
// The partitioned gateway must say so (/readyz 503), keep its clients, and once Redis is reachable
// again fill what they missed from history: every client ends with its complete, gapless run.
import { createClient } from "@agentcast/client";
import { type EventEnvelope, validateRunEvents } from "@agentcast/protocol";
import {
  type GatewayProcess,
  type RedisServerHandle,
  signDevToken,
  startGatewayProcess,
  startRedisServer,
  startTcpBalancer,
  startWorkerProcess,
  type TcpBalancer,
  until,
  type WorkerProcess,
} from "@agentcast/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const terminal = (e: EventEnvelope) => e.type === "agent_completed" || e.type === "agent_error";
const readyz = async (g: GatewayProcess) => (await fetch(`${g.url}/readyz`)).status;

describe("chaos: a gateway partitioned from Redis mid-run", () => {
  let redis: RedisServerHandle;
  let proxy: TcpBalancer;
  let cutOff: GatewayProcess;
  let healthy: GatewayProcess;
  let worker: WorkerProcess;
  beforeAll(async () => {
    redis = await startRedisServer();
    proxy = await startTcpBalancer({ backends: [redis.port] });
    [cutOff, healthy, worker] = await Promise.all([
      startGatewayProcess({ redisUrl: `redis://127.0.0.1:${proxy.port}`, id: "gw-partitioned" }),
      startGatewayProcess({ redisUrl: redis.url, id: "gw-healthy" }),
      startWorkerProcess({ redisUrl: redis.url, env: { DEMO_STEP_MS: "60" } }),
    ]);
  });
  afterAll(async () => {
    await Promise.all([cutOff, healthy, worker].map((p) => p?.child.stop("SIGTERM", 5_000)));
    await proxy?.close();
    await redis?.[Symbol.asyncDispose]();
  });

  it("readyz goes 503 during the partition and back to 200; clients on both gateways end with their complete runs", async () => {
    const users = ["part-a", "part-b", "part-c", "part-d"];
    const follow = (gateway: GatewayProcess, user: string) =>
      createClient({ url: gateway.url, getToken: () => signDevToken(user), transports: ["websocket"], reconnectDelayMs: 200 });
    const starters = users.map((u) => follow(healthy, u));
    const taskIds = await Promise.all(starters.map(async (c) => (await c.send("/slow /tools 10 what is 3*4")).taskId));
    // Each user follows their run from both gateways.
    const watchers = users.flatMap((u, i) =>
      [cutOff, healthy].map((g) => {
        const client = follow(g, u);
        const states: string[] = [];
        client.on("state", (st) => states.push(st));
        const handle = client.subscribe(taskIds[i] as string);
        const seen: EventEnvelope[] = [];
        const done = new Promise<void>((resolve) =>
          handle.on("*", (e) => {
            seen.push(e);
            if (terminal(e)) resolve();
          }),
        );
        return { client, seen, done, states, gateway: g.id, taskId: taskIds[i], userId: u };
      }),
    );
    try {
      await until("every watcher to see its run stream", () => watchers.every((w) => w.seen.length >= 3), 30_000);
      // The partition (3 s) starts mid-run: no watcher has seen its run end.
      proxy.block(3_000);
      proxy.cut();
      const seenBefore = Math.max(...watchers.map((w) => w.seen.length));
      expect(watchers.filter((w) => w.seen.some(terminal))).toHaveLength(0);
      await until("/readyz 503 on the partitioned gateway (within the partition)", async () => (await readyz(cutOff)) === 503, 3_000);
      expect(await readyz(healthy)).toBe(200);

      await Promise.race([
        Promise.all(watchers.map((w) => w.done)),
        new Promise((_, reject) => setTimeout(() => reject(new Error("runs did not complete within 60 s")), 60_000)),
      ]);
      await until("/readyz 200 again on the partitioned gateway", async () => (await readyz(cutOff)) === 200);
      for (const w of watchers) {
        expect(w.seen.map((e) => e.seq)).toEqual(w.seen.map((_, i) => i + 1));
        expect(validateRunEvents(w.seen)).toEqual([]);
        expect(w.seen.at(-1)?.type).toBe("agent_completed");
        expect(w.seen.every((e) => e.taskId === w.taskId && e.userId === w.userId)).toBe(true);
      }
      // The partitioned gateway kept its clients and filled their gap itself (resync from history
      // once its subscriber was back), rather than leaving it to a client reconnect.
      expect(watchers.filter((w) => w.gateway === cutOff.id).flatMap((w) => w.states)).not.toContain("reconnecting");
      // The runs went on during the partition: more was published than had been seen before it.
      expect(Math.min(...watchers.map((w) => w.seen.length))).toBeGreaterThan(seenBefore);
    } finally {
      for (const c of [...starters, ...watchers.map((w) => w.client)]) c.close();
    }
  });
});
