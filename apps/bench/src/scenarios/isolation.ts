import { taskRoom } from "@agentcast/protocol";
import { connectRedis, redisTargetOf } from "@agentcast/store";
import type { BenchOptions } from "../cli/options.js";
import { sleep } from "../common/clock.js";
import { tcpBytesReceived } from "../common/proc-stats.js";
import { connectionsNamed } from "../common/redis-nodes.js";
import { ClientPool } from "../systems/client-pool.js";
import type { BenchRedis, SystemName } from "../systems/system.js";
import { runStep } from "./step.js";
import { startSystem } from "./systems.js";

export interface IsolationResult {
  system: string;
  servers: number;
  published: number;
  lost: number;
  /** Bytes each server's Redis subscriber connections received ÷ bytes a subscriber to every event received. */
  shares: number[];
  maxShare: number;
}

const PROBE = "bench:probe";

/**
 * Pod isolation: N servers, users spread evenly, events to random users. Each server's subscriber
 * traffic is read from the kernel (ss bytes_received on its Redis connections — on a cluster, one per
 * master) and compared with a probe subscribed to every event: sharded dynamic should be ≈ 1/N, the
 * classic adapter is 1.
 */
export async function runIsolation(o: BenchOptions, redis: BenchRedis, log: (s: string) => void): Promise<IsolationResult[]> {
  const results: IsolationResult[] = [];
  const { gateways: servers, clients, rate, durationMs } = o.isolation;
  for (const name of o.systems.filter((s) => s !== "ws")) {
    const onCluster = name === "agentcast-cluster";
    const system = await startSystem(name as SystemName, redis, servers);
    const pool = ClientPool.start(2);
    const target = redisTargetOf({
      REDIS_URL: onCluster ? undefined : redis.url,
      REDIS_CLUSTER_NODES: onCluster ? redis.cluster?.seeds : undefined,
      REDIS_USERNAME: undefined,
      REDIS_PASSWORD: undefined,
    });
    const probe = connectRedis(target, "subscriber", { name: PROBE });
    try {
      const targets = await system.targets(clients, `iso-${name}`);
      await pool.open(system.protocol, { urls: system.urls, targets, subscribe: true });
      // One SSUBSCRIBE per channel: on a cluster, channels of different slots cannot share one.
      if (name.startsWith("agentcast")) await Promise.all(targets.map((t) => probe.ssubscribe(`socket.io#/#${taskRoom(t.name)}#`)));
      else await probe.psubscribe("socket.io#/#*");
      await sleep(500);
      const names = [...system.subscriberNames(), PROBE];
      const conns = await connectionsNamed(system.redisNodes, names);
      const bytes = async () =>
        Promise.all(
          names.map(async (n) => {
            const each = await Promise.all((conns.get(n) ?? []).map((c) => tcpBytesReceived(c.addr, c.port)));
            return each.reduce((a, b) => a + b, 0);
          }),
        );
      const before = await bytes();
      const step = await runStep(system, pool, targets, { rate, durationMs, watchers: 1, random: true, drainMs: 10_000 });
      const after = await bytes();
      const delta = after.map((a, i) => a - (before[i] ?? 0));
      const probeBytes = delta.pop() ?? 0;
      const shares = delta.map((d) => (probeBytes > 0 ? d / probeBytes : Number.NaN));
      if (shares.some((x) => Number.isNaN(x))) log(`isolation: ${name}: some subscriber connections not found by ss`);
      results.push({ system: name, servers, published: step.published, lost: step.lost, shares, maxShare: Math.max(...shares) });
      log(`isolation: ${name} shares ${shares.map((s) => s.toFixed(2)).join(" ")} (lost ${step.lost})`);
    } finally {
      probe.disconnect();
      await pool.stop().catch(() => {});
      await system.stop().catch(() => {});
    }
  }
  return results;
}
