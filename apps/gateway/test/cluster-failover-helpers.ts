// Shared by the cluster failover tests: where a task lives, its history as the cluster has it now, and
// the moves of a forced failover (cut a replica off, SIGKILL its master, promote it).
import type { AgentcastClient, TaskHandle } from "@agentcast/client";
import type { EventEnvelope } from "@agentcast/protocol";
import { connectRedis, createKeys, EventLog } from "@agentcast/store";
import type { ClusterNodeHandle, RedisClusterHandle } from "@agentcast/testkit";
import { until } from "@agentcast/testkit";
import { Redis } from "ioredis";

const keys = createKeys("ac");

/** A direct connection to one node (a replica answers reads after READONLY). */
export function nodeClient(node: ClusterNodeHandle): Redis {
  const client = new Redis(node.url, { maxRetriesPerRequest: 1, retryStrategy: () => null, lazyConnect: false });
  client.on("error", () => {}); // the node may be killed under it
  return client;
}

export interface ClusterView {
  /** The master serving `taskId`'s keys now. */
  masterOfTask(taskId: string): Promise<ClusterNodeHandle>;
  /** The master serving the slot of the run queue `{runs-0}` now. */
  queueMaster(): Promise<ClusterNodeHandle>;
  /** The task's retained history as the cluster serves it now. */
  history(taskId: string): Promise<EventEnvelope[]>;
  /** The seq of the newest entry of `taskId`'s history on `node` (a replica: what it has copied). */
  lastSeqOn(node: ClusterNodeHandle, taskId: string): Promise<number>;
  close(): void;
}

export function clusterView(cluster: RedisClusterHandle): ClusterView {
  const redis = connectRedis(
    {
      mode: "cluster",
      nodes: cluster.nodes.map((n) => ({ host: "127.0.0.1", port: n.port })),
      tls: false,
      username: undefined,
      password: undefined,
    },
    "commands",
    { name: "test:view" },
  );
  redis.on("error", () => {});
  const log = new EventLog(redis, keys);
  const slotOf = async (key: string) => Number(await redis.call("CLUSTER", "KEYSLOT", key));
  return {
    masterOfTask: async (taskId) => cluster.masterOf(await slotOf(keys.task(taskId))),
    queueMaster: async () => cluster.masterOf(await slotOf("{runs-0}")),
    history: (taskId) => log.readAfter(taskId, 0, 10_000),
    async lastSeqOn(node, taskId) {
      const client = nodeClient(node);
      try {
        await client.call("READONLY");
        const [last] = await client.xrevrange(keys.events(taskId), "+", "-", "COUNT", 1);
        return last ? Number.parseInt(last[0], 10) : 0;
      } finally {
        client.disconnect();
      }
    },
    close: () => redis.disconnect(),
  };
}

/**
 * Makes `replica` miss its master's next writes: frozen (SIGSTOP) and its replication link cut on the
 * master (else, once resumed, it would read them from its socket buffer).
 */
export async function cutReplica(master: ClusterNodeHandle, replica: ClusterNodeHandle): Promise<void> {
  replica.pause();
  const client = nodeClient(master);
  try {
    await client.client("KILL", "TYPE", "replica");
  } finally {
    client.disconnect();
  }
}

/**
 * Waits until `replica` holds the task's history up to what the clients have (`lastSeen()`), then cuts
 * it off from `master`: the next events reach clients live but never the replica. Returns the seq the
 * replica holds.
 */
export async function replicateThenCut(
  view: ClusterView,
  master: ClusterNodeHandle,
  replica: ClusterNodeHandle,
  taskId: string,
  lastSeen: () => number,
): Promise<number> {
  const replicated = await until(
    () => "the replica to hold what the clients saw",
    async () => {
      const seq = await view.lastSeqOn(replica, taskId);
      return seq >= lastSeen() ? seq : false;
    },
    10_000,
  );
  await cutReplica(master, replica);
  return replicated;
}

/** SIGKILLs `master`, resumes `replica` and promotes it (CLUSTER FAILOVER TAKEOVER), until it serves `taskId`. */
export async function killAndPromote(
  view: ClusterView,
  master: ClusterNodeHandle,
  replica: ClusterNodeHandle,
  taskId: string,
): Promise<void> {
  await master.stop(false);
  replica.resume();
  const client = nodeClient(replica);
  try {
    await client.call("CLUSTER", "FAILOVER", "TAKEOVER");
  } finally {
    client.disconnect();
  }
  await until(
    () => `${replica.address} to serve the task`,
    async () => (await view.masterOfTask(taskId).catch(() => undefined))?.address === replica.address,
    20_000,
    100,
  );
}

/** What one SDK client holds of a task: every event its handle delivered since the last task_reset. */
export interface Followed {
  readonly seen: EventEnvelope[];
  resets: number;
  handle: TaskHandle;
}

export function follow(client: AgentcastClient, taskId: string): Followed {
  const handle = client.subscribe(taskId);
  const followed: Followed = { seen: [], resets: 0, handle };
  handle.on("*", (e) => followed.seen.push(e));
  handle.onReset(() => {
    followed.resets++;
    followed.seen.length = 0;
  });
  return followed;
}

/** `seq:id` of each event: equal lists mean the same events under the same seqs. */
export const idsOf = (events: readonly EventEnvelope[]) => events.map((e) => `${e.seq}:${e.id}`);

export const isTerminal = (e: EventEnvelope): boolean => e.type === "agent_completed" || e.type === "agent_error";
