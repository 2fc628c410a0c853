// The publish script refreshes a task's TTLs at a run's first and last event and every 32 events
// between (not on every event: two EXPIREs per event were a fifth of the script's cost), so an
// active task never expires and an idle one lapses HISTORY_TTL_SECONDS after its last run ended.
import { type RedisServerHandle, startRedisServer } from "@agentcast/testkit";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createKeys, EventPublisher, TaskStore } from "../src/index.js";

describe("history TTL refresh", () => {
  let server: RedisServerHandle;
  let redis: Redis;
  beforeAll(async () => {
    server = await startRedisServer();
    redis = new Redis(server.url);
  });
  afterAll(async () => {
    redis?.disconnect();
    await server?.[Symbol.asyncDispose]();
  });

  it("refreshed at agent_started, every 32nd event and the terminal event; not in between", async () => {
    const keys = createKeys("ttl");
    const ttl = 5_000;
    const tasks = new TaskStore(redis, { keys, historyTtlSeconds: ttl });
    const publisher = new EventPublisher(redis, { keys, historyMaxLen: 1_000, historyTtlSeconds: ttl });
    const { taskId, runId } = await tasks.createTask("u", "x");
    const at = { taskId, runId, userId: "u" };
    const ttls = async () => [await redis.ttl(keys.task(taskId)), await redis.ttl(keys.events(taskId))];
    const shorten = async () => {
      await redis.expire(keys.task(taskId), 100);
      await redis.expire(keys.events(taskId), 100);
    };

    await publisher.publish({ ...at, type: "agent_started", data: { input: "x" } }); // seq 1
    expect(Math.min(...(await ttls()))).toBeGreaterThan(ttl - 10);
    await shorten();
    for (let seq = 2; seq <= 32; seq++) await publisher.publish({ ...at, type: "agent_output", data: { delta: "." } });
    expect(Math.max(...(await ttls()))).toBeLessThanOrEqual(100); // seqs 2–32: not refreshed
    await publisher.publish({ ...at, type: "agent_output", data: { delta: "." } }); // seq 33
    expect(Math.min(...(await ttls()))).toBeGreaterThan(ttl - 10);
    await shorten();
    await publisher.publish({ ...at, type: "agent_completed", data: { status: "succeeded" } }); // seq 34, terminal
    expect(Math.min(...(await ttls()))).toBeGreaterThan(ttl - 10);
    expect(await redis.hget(keys.task(taskId), "lastSeq")).toBe("34");
  });
});
