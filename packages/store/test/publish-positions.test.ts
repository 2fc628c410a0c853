// The publish script's run rules, against a real Redis: every event of a run is published once per
// position (owner token + index), not only the last one; agent_started is accepted only while the run is
// queued; a run has one owner at a time, and a takeover fences the previous one off. A refusal changes
// nothing.
import type { EventData, EventType } from "@agentcast/protocol";
import { type RedisServerHandle, startRedisServer } from "@agentcast/testkit";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createKeys, EventLog, EventPublisher, type Keys, StaleRunError, TaskStore } from "../src/index.js";

let server: RedisServerHandle;
let redis: Redis;
let n = 0;

beforeAll(async () => {
  server = await startRedisServer();
  redis = new Redis(server.url);
});
afterAll(async () => {
  redis?.disconnect();
  await server?.[Symbol.asyncDispose]();
});

/** A fresh task with a queued run, and a publisher for it. */
async function freshRun() {
  const keys: Keys = createKeys(`pos${++n}`);
  const tasks = new TaskStore(redis, { keys, historyTtlSeconds: 60 });
  const publisher = new EventPublisher(redis, { keys, historyMaxLen: 1_000, historyTtlSeconds: 60 });
  const { taskId, runId } = await tasks.createTask("u", "positions");
  const publish = <T extends EventType>(type: T, data: EventData<T>, at?: { owner: string; index: number; id?: string; ts?: number }) =>
    publisher.publish({
      taskId,
      runId,
      userId: "u",
      type,
      data,
      ...(at ? { position: { owner: at.owner, index: at.index } } : {}),
      ...(at?.id ? { id: at.id } : {}),
      ...(at?.ts ? { ts: at.ts } : {}),
    });
  const log = new EventLog(redis, keys);
  /** Everything a refusal must leave alone: the task hash and the history. */
  const state = async () => ({ task: await redis.hgetall(keys.task(taskId)), history: await log.readAfter(taskId, 0, 100) });
  return { keys, tasks, taskId, runId, publish, log, state };
}

const refusal = (p: Promise<unknown>) =>
  p.then(
    () => "published",
    (err: unknown) => (err instanceof StaleRunError ? err.reason : `unexpected: ${String(err)}`),
  );

describe("publish script: idempotent for every event of a run (issue 13, item 15)", () => {
  it("an older event sent again after newer ones were published is not appended again; it answers the seq it got", async () => {
    const { publish, log, taskId } = await freshRun();
    await publish("agent_started", { input: "x" }, { owner: "w1", index: 0 }); // seq 1
    const first = await publish("agent_output", { delta: "a" }, { owner: "w1", index: 1 }); // seq 2
    await publish("agent_output", { delta: "b" }, { owner: "w1", index: 2 }); // seq 3
    await publish("agent_output", { delta: "c" }, { owner: "w1", index: 3 }); // seq 4
    // ioredis resends an unanswered command after a reconnect: the same event, the same position.
    const resent = await publish("agent_output", { delta: "a" }, { owner: "w1", index: 1, id: first.envelope.id, ts: first.envelope.ts });
    expect(resent.duplicate).toBe(true);
    expect(resent.envelope.seq).toBe(2);
    expect(resent.envelope).toEqual(first.envelope);
    const history = await log.readAfter(taskId, 0, 100);
    expect(history.map((e) => [e.seq, e.type, (e.data as { delta?: string }).delta])).toEqual([
      [1, "agent_started", undefined],
      [2, "agent_output", "a"],
      [3, "agent_output", "b"],
      [4, "agent_output", "c"],
    ]);
  });

  it("the terminal event resent after the run ended answers its seq; agent_started resent answers seq 1", async () => {
    const { publish, state } = await freshRun();
    await publish("agent_started", { input: "x" }, { owner: "w1", index: 0 });
    await publish("agent_output", { delta: "a" }, { owner: "w1", index: 1 });
    const end = await publish("agent_completed", { status: "succeeded" }, { owner: "w1", index: 2 });
    const before = await state();
    const again = await publish("agent_completed", { status: "succeeded" }, { owner: "w1", index: 2 });
    expect([again.duplicate, again.envelope.seq]).toEqual([true, end.envelope.seq]);
    const started = await publish("agent_started", { input: "x" }, { owner: "w1", index: 0 });
    expect([started.duplicate, started.envelope.seq]).toEqual([true, 1]);
    expect(await state()).toEqual(before);
  });

  it("an index past the next one is refused (out_of_order), and so is a positioned event before agent_started", async () => {
    const { publish, state } = await freshRun();
    expect(await refusal(publish("agent_output", { delta: "early" }, { owner: "w1", index: 1 }))).toBe("out_of_order");
    await publish("agent_started", { input: "x" }, { owner: "w1", index: 0 });
    const before = await state();
    expect(await refusal(publish("agent_output", { delta: "skip" }, { owner: "w1", index: 2 }))).toBe("out_of_order");
    expect(await state()).toEqual(before);
  });
});

describe("publish script: agent_started only while the run is queued (issue 13, item 16)", () => {
  it("an agent_started replayed while the run is running is refused and changes nothing", async () => {
    const { publish, state } = await freshRun();
    await publish("agent_started", { input: "x" }, { owner: "w1", index: 0 });
    await publish("agent_output", { delta: "a" }, { owner: "w1", index: 1 });
    const before = await state();
    // A second execution of the same job (another worker, or a retried attempt) starts the run again.
    expect(await refusal(publish("agent_started", { input: "x" }, { owner: "w2", index: 0 }))).toBe("already_started");
    expect(await refusal(publish("agent_started", { input: "x" }))).toBe("already_started");
    expect(await state()).toEqual(before);
    expect(before.task.status).toBe("running");
  });

  it("agent_started after the run ended is refused as ended", async () => {
    const { publish } = await freshRun();
    await publish("agent_started", { input: "x" }, { owner: "w1", index: 0 });
    await publish("agent_error", { code: "agent_failed", message: "x", retryable: false }, { owner: "w1", index: 1 });
    expect(await refusal(publish("agent_started", { input: "x" }, { owner: "w2", index: 0 }))).toBe("ended");
  });
});

describe("one owner per run: a takeover fences the previous execution off", () => {
  it("after claimRun, the old owner's events are refused (fenced) and the new owner continues at the next index", async () => {
    const { publish, tasks, taskId, runId, state, log } = await freshRun();
    await publish("agent_started", { input: "x" }, { owner: "w1", index: 0 });
    await publish("tool_executing", { toolCallId: "tc_1", tool: "t", args: {} }, { owner: "w1", index: 1 });
    expect(await tasks.claimRun(taskId, runId, "w2")).toBe(2);
    const before = await state();
    expect(await refusal(publish("agent_output", { delta: "zombie" }, { owner: "w1", index: 2 }))).toBe("fenced");
    expect(await refusal(publish("agent_output", { delta: "unfenced" }))).toBe("fenced");
    expect(await state()).toEqual(before);
    await publish(
      "tool_completed",
      { toolCallId: "tc_1", tool: "t", ok: false, error: "stopped", durationMs: 1 },
      { owner: "w2", index: 2 },
    );
    await publish("agent_error", { code: "run_stalled", message: "stopped", retryable: true }, { owner: "w2", index: 3 });
    expect((await log.readAfter(taskId, 0, 100)).map((e) => e.seq)).toEqual([1, 2, 3, 4]);
    await expect(tasks.claimRun(taskId, runId, "w3")).rejects.toMatchObject({ reason: "ended" });
  });

  it("claimRun refuses a run that is not current or has not started", async () => {
    const { tasks, taskId, runId } = await freshRun();
    await expect(tasks.claimRun(taskId, runId, "w2")).rejects.toMatchObject({ reason: "not_started" });
    await expect(tasks.claimRun(taskId, "r_other", "w2")).rejects.toMatchObject({ reason: "superseded" });
  });
});
