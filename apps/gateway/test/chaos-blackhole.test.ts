// Chaos: the network between one gateway and Redis turns into a blackhole (packets go nowhere, no
// reset) mid-run. Without a liveness check the gateway's connections stay "ready" for hours while
// nothing arrives — the worst kind of silent failure. It must notice within its ping timeout
// (/readyz 503, a redis_error outage counted), and once the path heals fill its clients' gap from history.
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
import { scrape, value } from "./metrics.js";

const terminal = (e: EventEnvelope) => e.type === "agent_completed" || e.type === "agent_error";
const readyz = async (g: GatewayProcess) => (await fetch(`${g.url}/readyz`)).status;

describe("chaos: a blackhole between a gateway and Redis", () => {
  let redis: RedisServerHandle;
  let proxy: TcpBalancer;
  let gateway: GatewayProcess;
  let worker: WorkerProcess;
  beforeAll(async () => {
    redis = await startRedisServer();
    proxy = await startTcpBalancer({ backends: [redis.port] });
    [gateway, worker] = await Promise.all([
      startGatewayProcess({
        redisUrl: `redis://127.0.0.1:${proxy.port}`,
        env: { REDIS_PING_INTERVAL_MS: "500", REDIS_PING_TIMEOUT_MS: "1500" },
      }),
      startWorkerProcess({ redisUrl: redis.url, env: { DEMO_STEP_MS: "60" } }),
    ]);
  });
  afterAll(async () => {
    await Promise.all([gateway, worker].map((p) => p?.child.stop("SIGTERM", 5_000)));
    await proxy?.close();
    await redis?.[Symbol.asyncDispose]();
  });

  it("is noticed within the ping timeout (readyz 503, one outage counted); the runs complete on the clients once it heals", async () => {
    const users = ["bh-a", "bh-b"];
    const clients = users.map((u) =>
      createClient({ url: gateway.url, getToken: () => signDevToken(u), transports: ["websocket"], reconnectDelayMs: 200 }),
    );
    try {
      const followed = await Promise.all(
        clients.map(async (c, i) => {
          const { taskId } = await c.send("/slow /tools 10 what is 5*5");
          const seen: EventEnvelope[] = [];
          const done = new Promise<void>((resolve) =>
            c.subscribe(taskId).on("*", (e) => {
              seen.push(e);
              if (terminal(e)) resolve();
            }),
          );
          return { seen, done, taskId, userId: users[i] };
        }),
      );
      await until("both runs to stream", () => followed.every((f) => f.seen.length >= 3), 30_000);
      expect(followed.filter((f) => f.seen.some(terminal))).toHaveLength(0);
      const before = await scrape(gateway.metricsPort);

      proxy.blackhole(true);
      const holedAt = Date.now();
      await until("/readyz 503 after the blackhole", async () => (await readyz(gateway)) === 503, 10_000, 100);
      const unreadyAfterMs = Date.now() - holedAt;
      // Noticed within interval + timeout (+ slack for a busy machine), not hours later.
      expect(unreadyAfterMs).toBeLessThan(500 + 1_500 + 2_000);
      await new Promise((r) => setTimeout(r, 1_500)); // deliberate: the blackhole lasts 1.5 s more while the runs go on
      proxy.blackhole(false);

      await Promise.race([
        Promise.all(followed.map((f) => f.done)),
        new Promise((_, reject) => setTimeout(() => reject(new Error("runs did not complete within 60 s of healing")), 60_000)),
      ]);
      for (const f of followed) {
        expect(f.seen.map((e) => e.seq)).toEqual(f.seen.map((_, i) => i + 1));
        expect(validateRunEvents(f.seen)).toEqual([]);
        expect(f.seen.at(-1)?.type).toBe("agent_completed");
        expect(f.seen.every((e) => e.taskId === f.taskId && e.userId === f.userId)).toBe(true);
      }
      await until("/readyz 200 again", async () => (await readyz(gateway)) === 200);
      const after = await scrape(gateway.metricsPort);
      const outages = (m: Awaited<ReturnType<typeof scrape>>) =>
        value(m, "agentcast_silent_failures_total", { component: "gateway", kind: "redis_error" });
      expect(outages(after) - outages(before)).toBe(1);
    } finally {
      for (const c of clients) c.close();
    }
  });
});
