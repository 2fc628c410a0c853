// A cluster connection (connectRedis) on a real local Redis Cluster, while a slot moves between two
// masters: it reports every MOVED, ASK and TRYAGAIN it handles (the `redirection` event, from the one
// ioredis internal it hooks, Cluster.handleError), and a multi-key script on a half-moved slot waits the
// migration out instead of failing after ioredis' default ~1 s of TRYAGAIN.
import { type ClusterNodeHandle, type RedisClusterHandle, startRedisCluster } from "@agentcast/testkit";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ClusterRedirection, connectRedis, type RedisClient } from "../src/index.js";

let cluster: RedisClusterHandle;
let client: RedisClient;
const seen: ClusterRedirection[] = [];

const on = async <T>(node: ClusterNodeHandle, fn: (r: Redis) => Promise<T>) => {
  const r = new Redis(node.url);
  try {
    return await fn(r);
  } finally {
    r.disconnect();
  }
};
const idOf = (node: ClusterNodeHandle) => on(node, async (r) => String(await r.call("CLUSTER", "MYID")));

/** The slot of `key`, its master and another master. */
async function slotAndMasters(key: string) {
  const slot = await on(cluster.nodes[0] as ClusterNodeHandle, async (r) => Number(await r.call("CLUSTER", "KEYSLOT", key)));
  const from = await cluster.masterOf(slot);
  const masters = (await cluster.masters()).map((m) => m.node);
  return { slot, from, to: masters.find((m) => m !== from) as ClusterNodeHandle, masters };
}

async function halfMove(slot: number, from: ClusterNodeHandle, to: ClusterNodeHandle) {
  const [fromId, toId] = await Promise.all([idOf(from), idOf(to)]);
  await on(to, (r) => r.call("CLUSTER", "SETSLOT", slot, "IMPORTING", fromId));
  await on(from, (r) => r.call("CLUSTER", "SETSLOT", slot, "MIGRATING", toId));
}

async function finish(slot: number, to: ClusterNodeHandle, masters: ClusterNodeHandle[]) {
  const toId = await idOf(to);
  for (const node of [to, ...masters.filter((m) => m !== to)]) await on(node, (r) => r.call("CLUSTER", "SETSLOT", slot, "NODE", toId));
}

beforeAll(async () => {
  cluster = await startRedisCluster({ replicasPerMaster: 0 });
  const nodes = cluster.nodes.map((n) => ({ host: "127.0.0.1", port: n.port }));
  // No periodic slot-map refresh: the client learns of the move only from the replies.
  client = connectRedis({ mode: "cluster", nodes, tls: false, username: undefined, password: undefined }, "commands", {
    name: "observed",
    slotsRefreshIntervalMs: 600_000,
  });
  client.on("redirection", (kind: ClusterRedirection) => seen.push(kind));
});
afterAll(async () => {
  client?.disconnect();
  await cluster?.stop();
});

describe("ObservedCluster on a slot that moves", () => {
  it("reports ASK while a slot is half-moved, and a multi-key script waits out TRYAGAIN (meeting MOVED on its way)", async () => {
    await client.set("{obs}a", "1");
    const { slot, from, to, masters } = await slotAndMasters("{obs}a");
    await halfMove(slot, from, to);
    await on(from, (r) => r.call("MIGRATE", "127.0.0.1", String(to.port), "", "0", "5000", "KEYS", "{obs}a"));

    // One key, now on the importing node: ASK.
    expect(await client.get("{obs}a")).toBe("1");
    expect(seen).toContain("ask");

    // Two keys, one absent: TRYAGAIN until the slot is whole, for longer than ioredis' default ~1 s budget.
    const startedAt = Date.now();
    const script = (client.eval("return redis.call('GET', KEYS[1])", 2, "{obs}a", "{obs}absent") as Promise<string>).then((v) => ({
      value: v,
      afterMs: Date.now() - startedAt,
    }));
    // The slot stays half-moved for 3 s (the fault's duration), then is given to the new master.
    await new Promise((r) => setTimeout(r, 3_000));
    await finish(slot, to, masters);
    expect(await script).toMatchObject({ value: "1", afterMs: expect.any(Number) });
    expect((await script).afterMs).toBeGreaterThanOrEqual(3_000);
    expect(seen).toContain("tryagain");
    expect(seen).toContain("moved"); // ioredis resends after TRYAGAIN to a random node
  });

  it("reports MOVED when a slot it knows has a new master", async () => {
    const other = await slotAndMasters("{obs2}x");
    expect(await client.get("{obs2}x")).toBe(null); // the client knows the slot's master
    await finish(other.slot, other.to, other.masters); // an empty slot changes hands at once
    const movedBefore = seen.filter((k) => k === "moved").length;
    await client.set("{obs2}x", "2");
    expect(seen.filter((k) => k === "moved").length).toBe(movedBefore + 1);
    expect(await on(other.to, (r) => r.get("{obs2}x"))).toBe("2");
  });
});
