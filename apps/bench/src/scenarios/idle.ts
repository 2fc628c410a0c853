import type { BenchOptions } from "../cli/options.js";
import { sleep } from "../common/clock.js";
import { rssOf } from "../common/proc-stats.js";
import { ClientPool } from "../systems/client-pool.js";
import type { BenchRedis, SystemName } from "../systems/system.js";
import { startSystem } from "./systems.js";

export interface IdleResult {
  system: string;
  connections: number;
  opened: number;
  failed: number;
  connectPerSec: number;
  rssPerConnKB: number;
  heapPerConnKB: number;
  rssTotalMB: number;
}

/**
 * Idle connections to ONE server process: RSS (from /proc, the same way for every system) and V8
 * heap before and after, per connection; connect rate from first attempt to last ready socket.
 * Socket.IO: in-memory adapter, one room per socket; agentcast: authenticated, in its user room.
 */
export async function runIdle(o: BenchOptions, redis: BenchRedis, log: (s: string) => void): Promise<IdleResult[]> {
  const results: IdleResult[] = [];
  for (const count of o.idle.counts) {
    for (const name of o.systems) {
      const system = await startSystem(name as SystemName, redis, 1, { adapter: false });
      const pool = ClientPool.start(o.idle.clientProcesses);
      try {
        const pid = system.serverPids[0] as number;
        const targets = await system.targets(count, `idle-${name}-${count}`, { tasks: false });
        await sleep(1_000);
        const rss0 = await rssOf(pid);
        const heap0 = await system.heapUsed(0);
        const opened = await pool.open(system.protocol, { urls: system.urls, targets, subscribe: false, concurrency: 50 });
        await sleep(3_000);
        const rss1 = await rssOf(pid);
        const heap1 = await system.heapUsed(0);
        const r: IdleResult = {
          system: name,
          connections: count,
          opened: opened.opened,
          failed: opened.failed,
          connectPerSec: Math.round(opened.perSec),
          rssPerConnKB: (rss1 - rss0) / 1024 / Math.max(1, opened.opened),
          heapPerConnKB: (heap1 - heap0) / 1024 / Math.max(1, opened.opened),
          rssTotalMB: rss1 / 1024 / 1024,
        };
        results.push(r);
        log(`idle: ${name} ${opened.opened}/${count} at ${r.connectPerSec}/s → ${r.rssPerConnKB.toFixed(1)} KB RSS/conn`);
        await pool.closeAll();
      } finally {
        await pool.stop().catch(() => {});
        await system.stop().catch(() => {});
      }
    }
  }
  return results;
}
