// Moving one hash slot between two masters of a test cluster by hand, step by step, the way
// `redis-cli --cluster reshard` does it: IMPORTING on the target, MIGRATING on the source, MIGRATE the
// keys, then SETSLOT NODE everywhere. The steps are separate so a test can hold the slot half-moved.
import type { ClusterNodeHandle } from "@agentcast/testkit";
import { Redis } from "ioredis";

/** Runs `fn` with a plain connection to one node (no cluster redirection), then closes it. */
export async function onNode<T>(node: ClusterNodeHandle, fn: (redis: Redis) => Promise<T>): Promise<T> {
  const redis = new Redis(node.url, { maxRetriesPerRequest: 0, commandTimeout: 5_000 });
  try {
    return await fn(redis);
  } finally {
    redis.disconnect();
  }
}

export const nodeIdOf = (node: ClusterNodeHandle) => onNode(node, async (r) => String(await r.call("CLUSTER", "MYID")));

/** The hash slot of `key`, as the cluster computes it. */
export const slotOf = (node: ClusterNodeHandle, key: string) => onNode(node, async (r) => Number(await r.call("CLUSTER", "KEYSLOT", key)));

/** How often `node` answered with the error `code` (INFO errorstats), e.g. TRYAGAIN, ASK, MOVED. */
export const errorCount = (node: ClusterNodeHandle, code: string) =>
  onNode(node, async (r) => {
    const m = new RegExp(`errorstat_${code}:count=(\\d+)`).exec(String(await r.info("errorstats")));
    return Number(m?.[1] ?? 0);
  });

/** Shard-channel subscribers of `channel` on `node`. */
export const shardSubscribers = (node: ClusterNodeHandle, channel: string) =>
  onNode(node, async (r) => {
    const [, count] = (await r.call("PUBSUB", "SHARDNUMSUB", channel)) as [string, number];
    return Number(count);
  });

/** Step 1: `to` imports `slot` from `from`, `from` migrates it to `to` (keys not moved yet). */
export async function beginSlotMigration(from: ClusterNodeHandle, to: ClusterNodeHandle, slot: number): Promise<void> {
  const [fromId, toId] = await Promise.all([nodeIdOf(from), nodeIdOf(to)]);
  await onNode(to, (r) => r.call("CLUSTER", "SETSLOT", slot, "IMPORTING", fromId));
  await onNode(from, (r) => r.call("CLUSTER", "SETSLOT", slot, "MIGRATING", toId));
}

/** Step 2 (repeatable): MIGRATE those of `keys` that `from` holds in `slot` to `to`, in one atomic command; returns them. */
export async function migrateKeys(from: ClusterNodeHandle, to: ClusterNodeHandle, slot: number, keys: string[]): Promise<string[]> {
  return onNode(from, async (r) => {
    const held = new Set((await r.call("CLUSTER", "GETKEYSINSLOT", slot, 1000)) as string[]);
    const present = keys.filter((k) => held.has(k));
    if (present.length === 0) return [];
    await r.call("MIGRATE", "127.0.0.1", String(to.port), "", "0", "5000", "KEYS", ...present);
    return present;
  });
}

/** Step 3: `to` owns `slot` — told to the target first, then the source, then every other master. */
export async function finishSlotMigration(to: ClusterNodeHandle, from: ClusterNodeHandle, others: ClusterNodeHandle[], slot: number) {
  const toId = await nodeIdOf(to);
  for (const node of [to, from, ...others]) await onNode(node, (r) => r.call("CLUSTER", "SETSLOT", slot, "NODE", toId));
}

/** The master of `slot` according to `node` (CLUSTER SLOTS there), as `host:port`. */
export const masterSeenBy = (node: ClusterNodeHandle, slot: number) =>
  onNode(node, async (r) => {
    const ranges = (await r.call("CLUSTER", "SLOTS")) as [number, number, [string, number, ...unknown[]], ...unknown[]][];
    const range = ranges.find(([a, b]) => slot >= a && slot <= b);
    return range ? `${range[2][0]}:${range[2][1]}` : undefined;
  });
