// Which cluster client keeps a sharded subscription alive through the faults of issue 14: ioredis' Cluster
// (shardedSubscribers, 1 s slot refresh — what agentcast uses) or node-redis' createCluster + sSubscribe
// (what @socket.io/redis-adapter's sharded adapter documents). On a real local 3+3 cluster, for each
// client: a publisher SPUBLISHes a counter every 20 ms to one shard channel; then (1) the channel's slot is
// migrated to another master, (2) on a fresh cluster, the slot's master is SIGKILLed (its replica is
// promoted in ~2.5 s). Reported: the time from the fault until the subscriber receives a message published
// after it, or "none within" the bound. docs/architecture.md records what it found.
//   node apps/bench/scripts/sharded-subscriber-choice.mjs        (after `npm run build`)
import { startRedisCluster } from "@agentcast/testkit";
import { Cluster, Redis } from "ioredis";
import { createCluster } from "redis";

const MIGRATION_BOUND_MS = 10_000;
const FAILOVER_BOUND_MS = 30_000;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const clients = {
  async ioredis(seeds, channel, onMessage) {
    const sub = new Cluster(seeds, { shardedSubscribers: true, slotsRefreshInterval: 1_000, redisOptions: { enableReadyCheck: false } });
    sub.on("error", () => {});
    sub.on("smessage", (_ch, msg) => onMessage(Number(msg)));
    await sub.ssubscribe(channel);
    return () => sub.disconnect();
  },
  async "node-redis"(seeds, channel, onMessage) {
    const sub = createCluster({ rootNodes: seeds.map((s) => ({ url: `redis://${s.host}:${s.port}` })) });
    sub.on("error", () => {});
    await sub.connect();
    await sub.sSubscribe(channel, (msg) => onMessage(Number(msg)));
    return () => sub.destroy();
  },
};

const onNode = async (node, fn) => {
  const r = new Redis(node.url, { maxRetriesPerRequest: 0 });
  try {
    return await fn(r);
  } finally {
    r.disconnect();
  }
};

async function trial(lib, fault) {
  const cluster = await startRedisCluster();
  const seeds = cluster.nodes.map((n) => ({ host: "127.0.0.1", port: n.port }));
  const channel = `socket.io#/#task:{choice-${lib}-${fault}}#`;
  const publisher = new Cluster(seeds, { slotsRefreshInterval: 1_000 });
  publisher.on("error", () => {});
  let sent = 0;
  let received = -1;
  const receivedAt = new Map();
  const unsubscribe = await clients[lib](seeds, channel, (n) => {
    received = Math.max(received, n);
    if (!receivedAt.has(n)) receivedAt.set(n, Date.now());
  });
  let publishing = true;
  const loop = (async () => {
    for (let i = 0; publishing && i < 10_000; i++) {
      await publisher.spublish(channel, String(++sent)).catch(() => {});
      await sleep(20);
    }
  })();
  try {
    for (let i = 0; received < 0 && i < 100; i++) await sleep(50);
    if (received < 0) return { lib, fault, result: "never received before the fault" };
    const slot = await onNode(cluster.nodes[0], async (r) => Number(await r.call("CLUSTER", "KEYSLOT", channel)));
    const from = await cluster.masterOf(slot);
    const faultAt = Date.now();
    const sentAtFault = sent;
    if (fault === "migration") {
      const to = (await cluster.masters()).map((m) => m.node).find((n) => n !== from);
      const [fromId, toId] = await Promise.all([from, to].map((n) => onNode(n, async (r) => String(await r.call("CLUSTER", "MYID")))));
      await onNode(to, (r) => r.call("CLUSTER", "SETSLOT", slot, "IMPORTING", fromId));
      await onNode(from, (r) => r.call("CLUSTER", "SETSLOT", slot, "MIGRATING", toId));
      for (const m of [to, from, ...(await cluster.masters()).map((x) => x.node).filter((n) => n !== to && n !== from)])
        await onNode(m, (r) => r.call("CLUSTER", "SETSLOT", slot, "NODE", toId));
    } else {
      await from.stop(false);
    }
    const bound = fault === "migration" ? MIGRATION_BOUND_MS : FAILOVER_BOUND_MS;
    while (Date.now() - faultAt < bound && received <= sentAtFault + 1) await sleep(20);
    if (received <= sentAtFault + 1) return { lib, fault, result: `none within ${bound / 1000} s` };
    const first = [...receivedAt.entries()].filter(([n]) => n > sentAtFault + 1).sort((a, b) => a[1] - b[1])[0];
    return { lib, fault, result: `${((first[1] - faultAt) / 1000).toFixed(2)} s` };
  } finally {
    publishing = false;
    await loop;
    await unsubscribe();
    publisher.disconnect();
    await cluster.stop();
  }
}

const rows = [];
for (const lib of Object.keys(clients)) for (const fault of ["migration", "failover"]) rows.push(await trial(lib, fault));
console.log("| client | slot migration: messages again after | master SIGKILL: messages again after |");
console.log("|---|---|---|");
for (const lib of Object.keys(clients)) {
  const r = (f) => rows.find((x) => x.lib === lib && x.fault === f)?.result;
  console.log(`| ${lib} | ${r("migration")} | ${r("failover")} |`);
}
process.exit(0);
