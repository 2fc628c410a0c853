// Isolation on a Redis Cluster (3 masters + 3 replicas), with tasks spread over every master: each user
// sees only their own runs, and each gateway subscribes only to the rooms its sockets hold — a task's
// shard channel has exactly the subscribers of the gateways whose sockets follow it, on the master that
// owns the task's slot.
import { type EventEnvelope, taskRoom, userRoom } from "@agentcast/protocol";
import { roomChannel } from "@agentcast/store";
import type { ClusterNodeHandle, GatewayTestClient } from "@agentcast/testkit";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Stack, startStack } from "./fixture.js";
import { pingMarker } from "./ping-marker.js";

const TASKS_PER_USER = 6;

describe("isolation on a Redis Cluster", () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ gateways: 2, workers: 1, redis: "cluster", workerEnv: { DEMO_STEP_MS: "0" } });
  });
  afterAll(() => stack?.stop());

  /** Shard-channel subscribers of `channel` on the master that owns its slot. */
  const shardSubscribers = async (channel: string): Promise<{ master: ClusterNodeHandle; count: number }> => {
    const cluster = stack.cluster;
    if (!cluster) throw new Error("no cluster");
    const anyNode = new Redis((cluster.nodes[0] as ClusterNodeHandle).url);
    try {
      const slot = Number(await anyNode.call("CLUSTER", "KEYSLOT", channel));
      const master = await cluster.masterOf(slot);
      const owner = new Redis(master.url);
      try {
        const [, count] = (await owner.call("PUBSUB", "SHARDNUMSUB", channel)) as [string, number];
        return { master, count: Number(count) };
      } finally {
        owner.disconnect();
      }
    } finally {
      anyNode.disconnect();
    }
  };

  /** `n` runs of `client`'s user, each on a new task, collected to their terminal event. */
  const runTasks = async (client: GatewayTestClient, n: number) => {
    const taskIds: string[] = [];
    for (let i = 0; i < n; i++) {
      const ack = await client.command("user_message", { text: `what is ${i}+${i}` });
      if (!ack.ok) throw new Error(JSON.stringify(ack));
      taskIds.push(ack.taskId);
      await client.collectRun(ack.taskId);
    }
    return taskIds;
  };

  it("every user sees only their runs; a task's channel is subscribed only by the gateway whose socket follows it", async () => {
    const ann = await stack.client("ann", 0);
    const ben = await stack.client("ben", 1);
    const annTasks = await runTasks(ann, TASKS_PER_USER);
    const benTasks = await runTasks(ben, TASKS_PER_USER);
    // Task ids hash to random slots: 12 tasks miss one of 3 masters about 2 % of the time. A few more of
    // ben's tasks (bounded) put tasks on every master, which the checks below are about.
    const masterOf = async (taskId: string) => (await shardSubscribers(roomChannel(taskRoom(taskId)))).master.address;
    const masters = new Set(await Promise.all([...annTasks, ...benTasks].map(masterOf)));
    for (let extra = 0; masters.size < 3 && extra < 20; extra++) {
      const [taskId] = await runTasks(ben, 1);
      benTasks.push(taskId as string);
      masters.add(await masterOf(taskId as string));
    }

    // Nothing of the other user's, up to a marker that comes after anything that would have been sent.
    await Promise.all([pingMarker(ann), pingMarker(ben)]);
    const foreign = (c: GatewayTestClient, user: string) => c.events().filter((e: EventEnvelope) => e.userId !== user);
    expect([foreign(ann, "ann"), foreign(ben, "ben")]).toEqual([[], []]);
    expect(new Set(ann.events().map((e) => e.taskId))).toEqual(new Set(annTasks));
    expect(new Set(ben.events().map((e) => e.taskId))).toEqual(new Set(benTasks));

    // Each task's room: exactly one gateway (the one its owner's socket is on) subscribes to its channel.
    const rooms = await Promise.all([...annTasks, ...benTasks].map((taskId) => shardSubscribers(roomChannel(taskRoom(taskId)))));
    expect(rooms.map((r) => r.count)).toEqual(Array(annTasks.length + benTasks.length).fill(1));
    // The tasks live on every master.
    expect(new Set(rooms.map((r) => r.master.address)).size).toBe(3);

    // A second socket of ann's on the other gateway that follows one task adds that gateway to that channel only.
    const annElsewhere = await stack.client("ann", 1);
    expect(await annElsewhere.command("subscribe", { taskId: annTasks[0] })).toMatchObject({ ok: true });
    expect((await shardSubscribers(roomChannel(taskRoom(annTasks[0] as string)))).count).toBe(2);
    expect((await shardSubscribers(roomChannel(taskRoom(annTasks[1] as string)))).count).toBe(1);
    // User rooms likewise: ann's on both gateways now, ben's on one.
    expect((await shardSubscribers(roomChannel(userRoom("ann")))).count).toBe(2);
    expect((await shardSubscribers(roomChannel(userRoom("ben")))).count).toBe(1);
  });
});
