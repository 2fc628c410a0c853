import { taskRoom } from "@agentcast/protocol";
import { Redis } from "ioredis";
import type { BenchOptions } from "../cli/options.js";
import { sleep } from "../common/clock.js";
import { tcpBytesReceived } from "../common/proc-stats.js";
import { ClientPool } from "../systems/client-pool.js";
import type { SystemName } from "../systems/system.js";
import { runStep } from "./step.js";
import { startSystem } from "./systems.js";

export interface IsolationResult {
  system: string;
  servers: number;
  published: number;
  lost: number;
  /** Bytes each server's Redis subscriber received ÷ bytes a subscriber to every event received. */
  shares: number[];
  maxShare: number;
}

/** Local address of each named Redis client, from CLIENT LIST (the client side of the TCP connection). */
async function clientAddrs(redis: Redis, names: string[]): Promise<string[]> {
  const list = (await redis.call("CLIENT", "LIST")) as string;
  return names.map((n) => {
    const line = list.split("\n").find((l) => l.includes(` name=${n} `));
    const addr = line ? /addr=(\S+)/.exec(line)?.[1] : undefined;
    if (!addr) throw new Error(`no Redis client named ${n}`);
    return addr;
  });
}

/**
 * Pod isolation: N servers, users spread evenly, events to random users. Each server's subscriber
 * traffic is read from the kernel (ss bytes_received on its Redis connection) and compared with a
 * probe subscribed to every event: sharded dynamic should be ≈ 1/N, the classic adapter is 1.
 */
export async function runIsolation(o: BenchOptions, redisUrl: string, log: (s: string) => void): Promise<IsolationResult[]> {
  const results: IsolationResult[] = [];
  const { gateways: servers, clients, rate, durationMs } = o.isolation;
  for (const name of o.systems.filter((s) => s !== "ws")) {
    const system = await startSystem(name as SystemName, redisUrl, servers);
    const pool = ClientPool.start(2);
    const probe = new Redis(redisUrl, { connectionName: "bench:probe", enableReadyCheck: false });
    const admin = new Redis(redisUrl, { connectionName: "bench:admin" });
    try {
      const targets = await system.targets(clients, `iso-${name}`);
      await pool.open(system.protocol, { urls: system.urls, targets, subscribe: true });
      if (name === "agentcast") await probe.ssubscribe(...targets.map((t) => `socket.io#/#${taskRoom(t.name)}#`));
      else await probe.psubscribe("socket.io#/#*");
      await sleep(500);
      const addrs = await clientAddrs(admin, [...system.subscriberNames(), "bench:probe"]);
      const redisPort = Number(new URL(redisUrl).port);
      const bytes = (addr: string) => tcpBytesReceived(addr, redisPort);
      const before = await Promise.all(addrs.map(bytes));
      const step = await runStep(system, pool, targets, { rate, durationMs, watchers: 1, random: true, drainMs: 10_000 });
      const after = await Promise.all(addrs.map(bytes));
      const delta = after.map((a, i) => a - (before[i] ?? 0));
      const probeBytes = delta.pop() ?? 0;
      const shares = delta.map((d) => (probeBytes > 0 ? d / probeBytes : Number.NaN));
      if (shares.some((x) => Number.isNaN(x))) log(`isolation: ${name}: some subscriber connections not found by ss (${addrs.join(" ")})`);
      results.push({ system: name, servers, published: step.published, lost: step.lost, shares, maxShare: Math.max(...shares) });
      log(`isolation: ${name} shares ${shares.map((s) => s.toFixed(2)).join(" ")} (lost ${step.lost})`);
    } finally {
      probe.disconnect();
      admin.disconnect();
      await pool.stop().catch(() => {});
      await system.stop().catch(() => {});
    }
  }
  return results;
}
