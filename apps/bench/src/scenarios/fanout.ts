import type { BenchOptions } from "../cli/options.js";
import { ClientPool } from "../systems/client-pool.js";
import type { BenchRedis, SystemName } from "../systems/system.js";
import { runStep, type StepResult } from "./step.js";
import { startSystem } from "./systems.js";

/** Fan-out: one room/task watched by many sockets across 2 servers (ws: one process) → deliveries/s. */
export async function runFanout(
  o: BenchOptions,
  redis: BenchRedis,
  log: (s: string) => void,
): Promise<(StepResult & { watchers: number })[]> {
  const { watchers, rate, durationMs } = o.fanout;
  const results: (StepResult & { watchers: number })[] = [];
  for (const name of o.systems) {
    const system = await startSystem(name as SystemName, redis, 2);
    const pool = ClientPool.start(2);
    try {
      const targets = await system.targets(1, `fan-${name}`);
      const opened = await pool.open(system.protocol, { urls: system.urls, targets, count: watchers, subscribe: true });
      if (opened.failed > 0) throw new Error(`fanout: ${name}: ${opened.failed} clients failed to connect`);
      const step = await runStep(system, pool, targets, { rate, durationMs, watchers, drainMs: 10_000 });
      results.push({ ...step, watchers });
      log(`fanout: ${name} ${watchers} watchers @${rate}/s → ${step.deliveredPerSec} deliveries/s, lost ${step.lost}`);
    } finally {
      await pool.stop().catch(() => {});
      await system.stop().catch(() => {});
    }
  }
  return results;
}
