// Every Redis operation agentcast performs, on a real local Redis Cluster (3 masters + 3 replicas): each
// command and script touches keys of one slot only (a task's, a user's, a queue's). A command needing keys
// of two slots fails with CROSSSLOT (or, for an ioredis pipeline, before it is sent) — this is where such a
// bug shows. Tasks, users and queues land on every master.
import {
  connectRedis,
  createKeys,
  EventLog,
  EventPublisher,
  MessageIds,
  type RedisClient,
  type RedisTarget,
  RunQueues,
  runQueueName,
  TaskStore,
} from "@agentcast/store";
import { type RedisClusterHandle, startRedisCluster } from "@agentcast/testkit";
import type { Cluster } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { UserLimits } from "../src/limits/user-limits.js";

describe("on a Redis Cluster, every operation stays on one slot", () => {
  let cluster: RedisClusterHandle;
  let redis: RedisClient;
  const keys = createKeys("ck");

  beforeAll(async () => {
    cluster = await startRedisCluster();
    const target: RedisTarget = {
      mode: "cluster",
      nodes: cluster.nodes.map((n) => ({ host: "127.0.0.1", port: n.port })),
      tls: false,
      username: undefined,
      password: undefined,
    };
    redis = connectRedis(target, "commands", { name: "cluster-keys", autoPipelining: true });
  });
  afterAll(async () => {
    redis?.disconnect();
    await cluster?.stop();
  });

  /** The master (by address) serving the slot of `key`. */
  const masterOf = async (key: string) =>
    (await cluster.masterOf(Number(await (redis as Cluster).call("CLUSTER", "KEYSLOT", key)))).address;

  it("tasks, history, runs, questions, cancels, message ids, limits and queues", async () => {
    const tasks = new TaskStore(redis, { keys, historyTtlSeconds: 600 });
    const eventLog = new EventLog(redis, keys);
    const publisher = new EventPublisher(redis, { keys, historyMaxLen: 1_000, historyTtlSeconds: 600 });
    const messageIds = new MessageIds(redis, keys, 600);
    const limits = new UserLimits(redis, keys.prefix, 1_000, 50, 60_000);
    const queues = new RunQueues({ connection: redis, prefix: keys.queuePrefix, shards: 6 });

    // Enough tasks and users that every master holds some.
    const users = Array.from({ length: 12 }, (_, i) => `user-${i}`);
    const created = await Promise.all(users.flatMap((u) => [1, 2].map((n) => tasks.createTask(u, `task ${n} of ${u}`))));
    const taskMasters = new Set(await Promise.all(created.map((t) => masterOf(keys.task(t.taskId)))));
    const userMasters = new Set(await Promise.all(users.map((u) => masterOf(keys.userTasks(u)))));
    const queueMasters = new Set(await Promise.all(queues.queues.map((_, s) => masterOf(`${keys.queuePrefix}:${runQueueName(s)}:wait`))));
    expect([taskMasters.size, userMasters.size, queueMasters.size]).toEqual([3, 3, 3]);

    for (const u of users) {
      const page = await tasks.listTasks(u, 10);
      expect(page.tasks).toHaveLength(2);
      expect(await limits.takeCommand(u)).toBe(0);
      expect(await limits.openConnection(u, `c-${u}`)).toBe(true);
    }
    expect(await limits.renew(users.map((u) => [u, `c-${u}`] as [string, string]))).toBe(users.length);
    for (const u of users) await limits.closeConnection(u, `c-${u}`);

    for (const t of created.slice(0, 6)) {
      const userId = users[created.indexOf(t) >> 1] as string;
      const claim = await messageIds.claim(userId, `m-${t.taskId}`);
      expect(claim).toEqual({ claimed: true });
      await messageIds.record(userId, `m-${t.taskId}`, { taskId: t.taskId, runId: t.runId, fromSeq: 0, textDigest: "d" });
      await queues.add({ taskId: t.taskId, runId: t.runId, userId, text: "x" });
      expect((await queues.getJob(t.taskId, t.runId))?.id).toBe(t.runId);
      const owner = { owner: "o1", index: 0 };
      const base = { taskId: t.taskId, runId: t.runId, userId };
      await publisher.publish({ ...base, type: "agent_started", data: { input: "x" }, position: owner });
      await publisher.publish({
        ...base,
        type: "agent_question",
        data: { questionId: `q${owner.index}`, prompt: "?" },
        position: { owner: "o1", index: 1 },
      });
      expect(await tasks.answerQuestion(userId, t.taskId, "q0", "yes")).toMatchObject({ ok: true });
      expect(await tasks.consumeAnswer(t.taskId, "q0")).toBe("yes");
      expect(await tasks.requestCancel(userId, t.taskId)).toMatchObject({ ok: true });
      await publisher.publish({ ...base, type: "agent_completed", data: { status: "cancelled" }, position: { owner: "o1", index: 2 } });
      expect(await eventLog.position(t.taskId)).toEqual({ lastSeq: 3, firstSeq: 1, foldedThrough: 0 });
      expect((await eventLog.readRawAfter(t.taskId, 0, 10)).rows.map((r) => r.seq)).toEqual([1, 2, 3]);
      expect((await eventLog.readRun(t.taskId, t.runId)).map((e) => e.type)).toEqual([
        "agent_started",
        "agent_question",
        "agent_completed",
      ]);
      // A follow-up that could not be queued is undone.
      const next = await tasks.startRun(userId, t.taskId);
      if (!next.ok) throw new Error(next.code);
      expect(await tasks.abandonRun(t.taskId, next.runId, userId)).toBe(true);
    }
    // A first run undone removes the task and its entry in the user's list (two slots, two commands).
    const last = created.at(-1);
    if (!last) throw new Error("no task");
    expect(await tasks.abandonRun(last.taskId, last.runId, users.at(-1) as string)).toBe(true);
    expect((await tasks.listTasks(users.at(-1) as string, 10)).tasks).toHaveLength(1);
    expect((await queues.getJobCounts("waiting")).waiting).toBe(6);
    await queues.close();

    // History compaction (compact-history-3.lua) on every master: streamed deltas folded into a snapshot.
    const small = new EventPublisher(redis, { keys, historyMaxLen: 100, historyTtlSeconds: 600 });
    for (const t of created.slice(6, 12)) {
      const userId = users[created.indexOf(t) >> 1] as string;
      await small.publish({ taskId: t.taskId, runId: t.runId, userId, type: "agent_started", data: { input: "long" } });
      for (let i = 0; i < 150; i++)
        await small.publish({ taskId: t.taskId, runId: t.runId, userId, type: "agent_output", data: { delta: `${i} ` } });
      const replay = await eventLog.readAfter(t.taskId, 0, 1_000);
      expect(replay.length).toBeLessThanOrEqual(100);
      const text = replay.filter((e) => e.type === "agent_output").map((e) => e.data as { delta: string; snapshot?: true });
      expect(text[0]?.snapshot).toBe(true);
      expect(
        (text[0]?.delta ?? "") +
          text
            .slice(1)
            .map((d) => d.delta)
            .join(""),
      ).toBe(Array.from({ length: 150 }, (_, i) => `${i} `).join(""));
    }
    expect(new Set(await Promise.all(created.slice(6, 12).map((t) => masterOf(keys.task(t.taskId))))).size).toBeGreaterThan(1);
  });
});
