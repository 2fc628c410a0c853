// Group commit (publish-batches.ts): the events a worker's runs publish at the same time share script
// calls, and each keeps its own answer, position check and order. Against a real Redis; the calls are
// counted by Redis itself (INFO commandstats), not by the code under test.
import type { EventData, EventType } from "@agentcast/protocol";
import { type RedisServerHandle, startRedisServer } from "@agentcast/testkit";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createKeys, EventLog, EventPublisher, StaleRunError, TaskStore } from "../src/index.js";

let server: RedisServerHandle;
let redis: Redis;

beforeAll(async () => {
  server = await startRedisServer();
  redis = new Redis(server.url);
});
afterAll(async () => {
  await redis?.quit();
  await server?.[Symbol.asyncDispose]();
});

/** Script calls Redis has run so far (EVALSHA and the EVAL that loads a script). */
async function scriptCalls(): Promise<number> {
  const stats = await redis.info("commandstats");
  return [...stats.matchAll(/cmdstat_eval(?:sha)?:calls=(\d+)/g)].reduce((sum, m) => sum + Number(m[1]), 0);
}

describe("publishing: events published at the same time share script calls", () => {
  it("40 runs' events go out in a few calls; each event gets its own seq, a refused one fails alone, and history is exact", async () => {
    const keys = createKeys("batch1");
    const tasks = new TaskStore(redis, { keys, historyTtlSeconds: 60 });
    const publisher = new EventPublisher(redis, { keys, historyMaxLen: 1_000, historyTtlSeconds: 60 });
    const log = new EventLog(redis, keys);
    const runs = await Promise.all(Array.from({ length: 40 }, (_, i) => tasks.createTask(`u${i}`, "batch")));
    const publish = <T extends EventType>(
      run: (typeof runs)[number],
      i: number,
      type: T,
      data: EventData<T>,
      owner: string,
      index: number,
    ) => publisher.publish({ taskId: run.taskId, runId: run.runId, userId: `u${i}`, type, data, position: { owner, index } });

    const before = await scriptCalls();
    const started = await Promise.all(runs.map((run, i) => publish(run, i, "agent_started", { input: `in${i}` }, `w${i}`, 0)));
    expect(started.map((p) => p.envelope.seq)).toEqual(runs.map(() => 1));
    // Each run's next event, sent together; run 7's comes from another owner (a fenced zombie) and must
    // be refused without touching anyone else's.
    const outcomes = await Promise.allSettled(
      runs.map((run, i) => publish(run, i, "agent_output", { delta: `d${i}` }, i === 7 ? "zombie" : `w${i}`, 1)),
    );
    const calls = (await scriptCalls()) - before;
    expect(calls).toBeLessThanOrEqual(20); // 80 events; one call each would be 80
    expect(outcomes[7]).toMatchObject({ status: "rejected", reason: expect.any(StaleRunError) });
    expect(((outcomes[7] as PromiseRejectedResult).reason as StaleRunError).reason).toBe("fenced");
    for (const [i, outcome] of outcomes.entries()) {
      if (i === 7) continue;
      expect(outcome.status, `run ${i}`).toBe("fulfilled");
    }
    for (const [i, run] of runs.entries()) {
      const history = await log.readAfter(run.taskId, 0, 10);
      expect(
        history.map((e) => [e.seq, e.type, e.runId]),
        `run ${i}`,
      ).toEqual(
        i === 7
          ? [[1, "agent_started", run.runId]]
          : [
              [1, "agent_started", run.runId],
              [2, "agent_output", run.runId],
            ],
      );
      if (i !== 7) expect(history[1]?.data).toEqual({ delta: `d${i}` });
    }
  });

  it("one task's unpositioned events sent without waiting keep their order across calls", async () => {
    const keys = createKeys("batch2");
    const tasks = new TaskStore(redis, { keys, historyTtlSeconds: 60 });
    const publisher = new EventPublisher(redis, { keys, historyMaxLen: 10_000, historyTtlSeconds: 60 });
    const { taskId, runId } = await tasks.createTask("u", "order");
    const base = { taskId, runId, userId: "u" } as const;
    await publisher.publish({ ...base, type: "agent_started", data: { input: "x" } });
    const sent = await Promise.all(
      Array.from({ length: 300 }, (_, i) => publisher.publish({ ...base, type: "agent_output", data: { delta: String(i) } })),
    );
    expect(sent.map((p) => p.envelope.seq)).toEqual(sent.map((_, i) => i + 2));
    const history = await new EventLog(redis, keys).readAfter(taskId, 1, 1_000);
    expect(history.map((e) => (e.data as { delta: string }).delta)).toEqual(sent.map((_, i) => String(i)));
  });
});
