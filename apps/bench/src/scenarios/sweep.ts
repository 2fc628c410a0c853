import type { BenchOptions } from "../cli/options.js";
import { ClientPool } from "../systems/client-pool.js";
import type { BenchRedis, System, SystemName, Target } from "../systems/system.js";
import { quiesce, runStep, type StepResult } from "./step.js";
import { startSystem } from "./systems.js";

export interface SweepResult {
  steps: StepResult[];
  /** Per system: highest offered rate with 0 lost, 0 duplicates, p99 ≤ 50 ms and the publisher on rate. */
  best: Record<string, number>;
}

interface Running {
  system: System;
  pool: ClientPool;
  targets: Target[];
  saturated: boolean;
}

/**
 * Throughput/latency sweep: every system is up at once with its own clients (one room/task each);
 * for each rate, the systems take turns, so a noisy neighbour hits all of them alike. A system
 * that lost more than half or whose p99 passed 5 s is not driven at higher rates.
 */
export async function runSweep(o: BenchOptions, redis: BenchRedis, log: (s: string) => void): Promise<SweepResult> {
  const running: Running[] = [];
  const steps: StepResult[] = [];
  try {
    for (const name of o.systems) {
      const system = await startSystem(name as SystemName, redis, 2);
      const pool = ClientPool.start(2);
      running.push({ system, pool, targets: [], saturated: false });
      const r = running[running.length - 1] as Running;
      r.targets = await system.targets(o.sweep.clients, `sweep-${name}`);
      const opened = await pool.open(system.protocol, { urls: system.urls, targets: r.targets, subscribe: true });
      log(`sweep: ${name} up, ${opened.opened}/${o.sweep.clients} clients (${opened.failed} failed)`);
      if (opened.failed > 0) throw new Error(`sweep: ${name}: ${opened.failed} clients failed to connect`);
      // Warm-up (JIT, connection pools, Redis scripts loaded): one short unrecorded step.
      await runStep(system, pool, r.targets, {
        rate: Math.min(1_000, o.sweep.rates[0] ?? 1_000),
        durationMs: 1_000,
        watchers: 1,
        drainMs: 5_000,
      });
    }
    for (const rate of o.sweep.rates) {
      for (const r of running) {
        if (r.saturated) continue;
        const step = await runStep(r.system, r.pool, r.targets, {
          rate,
          durationMs: o.sweep.durationMs,
          watchers: 1,
          drainMs: o.sweep.drainMs,
        });
        steps.push(step);
        const shares = step.redis.length > 1 ? `, masters ${step.redis.map((n) => `${(n.publishShare * 100).toFixed(0)}%`).join("/")}` : "";
        log(
          `sweep: ${step.system} @${rate}/s → ${step.deliveredPerSec}/s, lost ${step.lost}, p99 ${step.p99Ms.toFixed(1)} ms${shares}${step.pass ? "" : " (fail)"}`,
        );
        if (step.lost > step.published / 2 || step.p99Ms > 5_000) r.saturated = true;
        await quiesce(r.pool, 30_000);
      }
    }
  } finally {
    for (const r of running) {
      await r.pool.stop().catch(() => {});
      await r.system.stop().catch(() => {});
    }
  }
  const best: Record<string, number> = {};
  for (const name of o.systems) best[name] = Math.max(0, ...steps.filter((s) => s.system === name && s.pass).map((s) => s.offered));
  return { steps, best };
}
