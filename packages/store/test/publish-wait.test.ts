// REDIS_WAIT_REPLICAS (issue 14, fault 2), against a real master and replica: with waitReplicas the
// script appends, WAIT holds the event until the replica has it, and only then is it SPUBLISHed; a wait
// that times out (replica frozen) still publishes, and says so. A resend of a position already appended
// is published again (its first publish may never have happened). `out_of_order` says which index the
// run expects, so a worker can re-send what a failover lost.
import { type EventData, type EventType, taskRoom } from "@agentcast/protocol";
import { type RedisServerHandle, startRedisServer, until } from "@agentcast/testkit";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createKeys, EventLog, EventPublisher, StaleRunError, TaskStore } from "../src/index.js";
import { broadcastFrame } from "../src/wire.js";

let master: RedisServerHandle;
let replica: RedisServerHandle;
let redis: Redis;
let onReplica: Redis;
let listener: Redis;
let n = 0;

beforeAll(async () => {
  master = await startRedisServer();
  replica = await startRedisServer({ args: ["--replicaof", "127.0.0.1", String(master.port)] });
  redis = new Redis(master.url);
  onReplica = new Redis(replica.url);
  listener = new Redis(master.url);
  await until(
    () => "the replica to sync",
    async () => /master_link_status:up/.test(await onReplica.info("replication")),
    10_000,
  );
});
afterAll(async () => {
  for (const c of [redis, onReplica, listener]) c?.disconnect();
  replica?.resume();
  await replica?.[Symbol.asyncDispose]();
  await master?.[Symbol.asyncDispose]();
});

const publisherFor = (waitReplicas: number, keys: ReturnType<typeof createKeys>) =>
  new EventPublisher(redis, { keys, historyMaxLen: 1_000, historyTtlSeconds: 60, waitReplicas, waitTimeoutMs: 150, waitBackoffMs: 5_000 });

/** A task with a queued run; its events go through `shared` (one publisher, as in a worker process) or a publisher of its own. */
async function freshRun(waitReplicas: number, shared?: { publisher: EventPublisher; keys: ReturnType<typeof createKeys> }) {
  const keys = shared?.keys ?? createKeys(`wait${++n}`);
  const tasks = new TaskStore(redis, { keys, historyTtlSeconds: 60 });
  const publisher = shared?.publisher ?? publisherFor(waitReplicas, keys);
  const { taskId, runId } = await tasks.createTask("u", "wait");
  const live: string[] = [];
  const channel = broadcastFrame(taskRoom(taskId)).channel;
  listener.on("smessage", (ch: string, msg: string) => {
    if (ch === channel) live.push(JSON.parse(msg).data.packet.data[1].id);
  });
  await listener.ssubscribe(channel);
  let index = 0;
  const publish = <T extends EventType>(type: T, data: EventData<T>, at: { index?: number; id?: string } = {}) =>
    publisher.publish({
      taskId,
      runId,
      userId: "u",
      type,
      data,
      position: { owner: "w1", index: at.index ?? index++ },
      ...(at.id ? { id: at.id } : {}),
    });
  const replicaHistory = async () => (await new EventLog(onReplica, keys).readAfter(taskId, 0, 100)).map((e) => e.id);
  return { publish, live, replicaHistory };
}

describe("publisher with waitReplicas", () => {
  it("publishes live only once the replica has the event", async () => {
    const { publish, live, replicaHistory } = await freshRun(1);
    const started = await publish("agent_started", { input: "x" });
    const output = await publish("agent_output", { delta: "a" });
    expect([started.replicas, started.unreplicated, output.replicas, output.unreplicated]).toEqual([1, false, 1, false]);
    expect(output.receivers).toBe(1);
    // Everything published live was on the replica by then.
    expect(await replicaHistory()).toEqual([started.envelope.id, output.envelope.id]);
    await until(
      () => `both events live (got ${live.length})`,
      () => live.length === 2,
      5_000,
    );
    expect(live).toEqual([started.envelope.id, output.envelope.id]);
  });

  it("many runs publishing at once share WAITs (group commit): far fewer WAITs than events, each event acknowledged", async () => {
    const keys = createKeys(`wait${++n}`);
    const shared = { publisher: publisherFor(1, keys), keys };
    const runs = await Promise.all(Array.from({ length: 20 }, () => freshRun(1, shared)));
    await Promise.all(runs.map((r) => r.publish("agent_started", { input: "x" })));
    const waitCalls = async () => Number(/cmdstat_wait:calls=(\d+)/.exec(await redis.info("commandstats"))?.[1] ?? 0);
    const before = await waitCalls();
    const published = await Promise.all(
      runs.map(async (r) => {
        const out = [];
        for (let i = 0; i < 10; i++) out.push(await r.publish("agent_output", { delta: `${i}` }));
        return out;
      }),
    );
    const events = published.flat();
    expect(events.every((p) => p.replicas === 1 && !p.unreplicated)).toBe(true);
    expect(await waitCalls()).toBeLessThan(before + events.length / 2);
  });

  it("a wait that times out (replica frozen) still publishes; that master's next events do not wait, for a while", async () => {
    const { publish, live } = await freshRun(1);
    await publish("agent_started", { input: "x" });
    replica.pause();
    try {
      const t0 = Date.now();
      const frozen = await publish("agent_output", { delta: "while frozen" });
      expect(Date.now() - t0).toBeGreaterThanOrEqual(140);
      expect([frozen.replicas, frozen.unreplicated]).toEqual([0, true]);
      // The wait also blocks the connection it runs on: the next events skip it (and say so).
      const t1 = Date.now();
      const next = await publish("agent_output", { delta: "not waiting" });
      expect(Date.now() - t1).toBeLessThan(140);
      expect([next.replicas, next.unreplicated]).toEqual([undefined, true]);
      await until(
        () => "the unreplicated events live",
        () => live.includes(frozen.envelope.id) && live.includes(next.envelope.id),
        5_000,
      );
    } finally {
      replica.resume();
    }
  });

  it("a resend of an appended position is published again, with the seq and bytes it had", async () => {
    const { publish, live } = await freshRun(1);
    await publish("agent_started", { input: "x" });
    const first = await publish("agent_output", { delta: "a" }, { id: "e-same" });
    const again = await publish("agent_output", { delta: "a" }, { index: 1, id: "e-same" });
    expect([again.duplicate, again.envelope.seq]).toEqual([true, first.envelope.seq]);
    await until(
      () => `the event twice live (${live.join(",")})`,
      () => live.filter((id) => id === "e-same").length === 2,
      5_000,
    );
  });

  it("out_of_order carries the index the run expects (a failover lost the events after it)", async () => {
    const { publish } = await freshRun(0);
    await publish("agent_started", { input: "x" });
    await publish("agent_output", { delta: "a" });
    const ahead = await publish("agent_output", { delta: "c" }, { index: 4 }).catch((err: unknown) => err);
    expect(ahead).toBeInstanceOf(StaleRunError);
    expect([(ahead as StaleRunError).reason, (ahead as StaleRunError).expectedIndex]).toEqual(["out_of_order", 2]);
  });
});
