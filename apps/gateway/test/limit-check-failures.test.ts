// Issue 13 item 13: the per-user limits fail open when Redis cannot check them (docs/operations.md says
// why), and every such admission is counted in agentcast_gateway_limit_check_failures_total{limit}.
// The limit keys are made unusable (a string where a sorted set belongs: WRONGTYPE), and Redis is stopped.
import { jsonLine, until } from "@agentcast/testkit";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Stack, startStack } from "./fixture.js";
import { scrape, value } from "./metrics.js";

describe("per-user limits when Redis cannot check them", () => {
  let stack: Stack;
  let redis: Redis;
  beforeAll(async () => {
    stack = await startStack({ gateways: 1, workers: 0, gatewayEnv: { RATE_LIMIT_USER_COMMANDS_PER_MIN: "2" } });
    redis = new Redis(stack.redis.url);
    redis.on("error", () => {}); // this test's own client, while the last test stops Redis: its reconnects are expected
  });
  afterAll(async () => {
    redis?.disconnect();
    await stack?.stop();
  });
  /** The gateway's `warn` lines for failed limit checks of `userId`, once there are `count` (they come over a pipe). */
  const warned = async (userId: string, count: number) => {
    const lines = () =>
      (stack.gateways[0]?.child.output ?? [])
        .map((line) => jsonLine(line))
        .filter((r) => r?.level === 40 && r.userId === userId && String(r.msg).startsWith("limit check failed"))
        .map((r) => r?.limit);
    await until(
      () => `${count} warn line(s) for ${userId}; got ${JSON.stringify(lines())}`,
      () => lines().length >= count,
      5_000,
      20,
    );
    return lines();
  };
  const metrics = async () => {
    const m = await scrape(stack.gateways[0]?.metricsPort ?? 0);
    return {
      commandChecksFailed: value(m, "agentcast_gateway_limit_check_failures_total", { limit: "commands_per_user" }),
      connectionChecksFailed: value(m, "agentcast_gateway_limit_check_failures_total", { limit: "connections_per_user" }),
      refused: value(m, "agentcast_gateway_limits_total", { limit: "commands_per_user" }),
    };
  };

  it("command limit: a socket command and an HTTP request are admitted, and each failed check is counted", async () => {
    const user = "broken-rl";
    await redis.set(`ac:rl:{${user}}`, "not a sorted set");
    const before = await metrics();
    const c = await stack.client(user);
    // Beyond the budget of 2: nothing is refused, since nothing could be counted.
    for (let i = 0; i < 3; i++) expect(await c.command("ping")).toMatchObject({ ok: true });
    // An HTTP command (a POST; reads are not commands since f5d791c).
    expect((await stack.http("/v1/tasks", { userId: user, body: { text: "admitted unchecked" } })).status).toBe(202);
    expect(await metrics()).toEqual({ ...before, commandChecksFailed: before.commandChecksFailed + 4 });
    expect(await warned(user, 4)).toEqual(Array(4).fill("commands_per_user"));
  });

  it("connection cap: the connection is admitted, counted, and holds no lease", async () => {
    const user = "broken-cap";
    const key = `ac:user:{${user}}:connections`;
    await redis.set(key, "not a sorted set");
    const before = await metrics();
    const c = await stack.client(user);
    expect(c.established?.userId).toBe(user);
    expect(await metrics()).toEqual({ ...before, connectionChecksFailed: before.connectionChecksFailed + 1 });
    expect(await redis.get(key)).toBe("not a sorted set");
    expect(await warned(user, 1)).toEqual(["connections_per_user"]);
  });

  it("Redis stopped: a command that needs no Redis (ping) still runs; the failed check is counted", async () => {
    const c = await stack.client("redis-gone");
    const before = await metrics();
    await stack.redis.stop();
    try {
      expect(await c.command("ping")).toMatchObject({ ok: true });
      expect((await metrics()).commandChecksFailed).toBe(before.commandChecksFailed + 1);
    } finally {
      await stack.redis.restart();
    }
  });
});
