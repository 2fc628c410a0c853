import { Redis } from "ioredis";
import type { BenchOptions } from "../cli/options.js";
import { nowUs, sleep, waitFor } from "../common/clock.js";
import { startAgentcastSystem } from "../systems/agentcast-system.js";
import { ClientPool } from "../systems/client-pool.js";

export interface StormResult {
  clients: number;
  tasks: number;
  published: number;
  reconnected: number;
  gaveUp: number;
  /** From SIGKILL of gateway A until the last client had everything up to its subscribe ack on B. */
  caughtUpSeconds: number;
  /** Half and 90 % of the clients were caught up this long after the kill. */
  caughtUpP50Seconds: number;
  caughtUpP90Seconds: number;
  /** Reconnect attempts that failed and were tried again (with backoff). */
  retries: number;
  allCaughtUp: boolean;
  lost: number;
  duplicates: number;
}

/**
 * Reconnect storm: every client is on gateway A, subscribed to its task, while the real publisher
 * streams; A is SIGKILLed mid-stream; clients reconnect to B (random jitter) and resume with
 * sinceSeq. Lost and duplicates are exact: each client's last seq is compared with its task's.
 */
export async function runStorm(o: BenchOptions, redisUrl: string, log: (s: string) => void): Promise<StormResult> {
  const { clients, tasks: taskCount, rate, durationMs, killAfterMs, jitterMs } = o.storm;
  const system = await startAgentcastSystem({ redisUrl, servers: 2 });
  const pool = ClientPool.start(2);
  const redis = new Redis(redisUrl, { connectionName: "bench:storm" });
  try {
    const targets = await system.targets(taskCount, "storm");
    const [urlA, urlB] = system.urls as [string, string];
    const opened = await pool.open("agentcast", { urls: [urlA], targets, count: clients, subscribe: true });
    if (opened.failed > 0) throw new Error(`storm: ${opened.failed} clients failed to connect`);
    await pool.setFailover(urlB, jitterMs);
    const publishing = system.publish({ rate, durationMs, targets });
    await sleep(killAfterMs);
    const killUs = nowUs();
    await system.kill(0);
    log(`storm: gateway A killed with ${clients} clients on it`);
    const pub = await publishing;
    const caughtUp = await waitFor(async () => {
      const s = await pool.stats();
      return s.caughtUp + s.gaveUp >= clients;
    }, 60_000);
    // Then every client must reach its task's final seq.
    const finalSeq = new Map<string, number>();
    for (const t of targets) finalSeq.set(t.name, Number(await redis.hget(`ac:{${t.name}}:task`, "lastSeq")));
    const complete = async () => (await pool.positions()).every(([task, seq]) => seq >= (finalSeq.get(task) ?? 0));
    await waitFor(complete, 15_000, 250);
    const s = await pool.stats();
    let lost = s.gaps;
    for (const [task, seq] of await pool.positions()) lost += Math.max(0, (finalSeq.get(task) ?? 0) - seq);
    const result: StormResult = {
      clients,
      tasks: taskCount,
      published: pub.published,
      reconnected: s.reconnected,
      gaveUp: s.gaveUp,
      caughtUpSeconds: s.lastCaughtUpUs > 0 ? (s.lastCaughtUpUs - killUs) / 1e6 : Number.NaN,
      caughtUpP50Seconds: quantileSeconds(s.caughtUpUs, 0.5, killUs),
      caughtUpP90Seconds: quantileSeconds(s.caughtUpUs, 0.9, killUs),
      retries: s.retries,
      allCaughtUp: caughtUp && s.caughtUp === clients,
      lost,
      duplicates: s.dups,
    };
    log(
      `storm: ${s.reconnected}/${clients} reconnected (${s.retries} retries), caught up in ${result.caughtUpSeconds.toFixed(2)} s (p50 ${result.caughtUpP50Seconds.toFixed(2)}, p90 ${result.caughtUpP90Seconds.toFixed(2)}), lost ${lost}, dup ${s.dups}`,
    );
    return result;
  } finally {
    redis.disconnect();
    await pool.stop().catch(() => {});
    await system.stop().catch(() => {});
  }
}

/** The `q` quantile of caught-up times, in seconds after `fromUs`. */
function quantileSeconds(timesUs: number[], q: number, fromUs: number): number {
  if (timesUs.length === 0) return Number.NaN;
  const sorted = [...timesUs].sort((a, b) => a - b);
  return ((sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] as number) - fromUs) / 1e6;
}
