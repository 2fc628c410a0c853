import { nowUs, sleep } from "../common/clock.js";
import { type NodeLoad, nodeLoads, readNodeCounters } from "../common/redis-nodes.js";
import type { ClientPool } from "../systems/client-pool.js";
import type { System, Target } from "../systems/system.js";

export interface StepResult {
  system: string;
  offered: number;
  published: number;
  publishedPerSec: number;
  /** Distinct events delivered to clients (each delivery to each watcher counts). */
  delivered: number;
  deliveredPerSec: number;
  lost: number;
  duplicates: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  /** Publisher fell behind the offered rate by more than 5 %. */
  publisherBehind: boolean;
  pass: boolean;
  /** Each Redis node that took the publish load (agentcast: its node or the cluster's masters): share and CPU per event. */
  redis: NodeLoad[];
}

export interface StepOptions {
  rate: number;
  durationMs: number;
  /** Sockets watching each target (expected deliveries = published × watchers). */
  watchers: number;
  random?: boolean;
  /** Wait this long after publishing for the last deliveries. */
  drainMs: number;
  p99LimitMs?: number;
}

/** One measured step: reset the clients, publish at the offered rate, wait for delivery to finish, summarise. */
export async function runStep(system: System, pool: ClientPool, targets: Target[], opts: StepOptions): Promise<StepResult> {
  await pool.reset(system.protocol === "agentcast");
  const countersBefore = system.name.startsWith("agentcast") ? await readNodeCounters(system.redisNodes) : [];
  const startUs = nowUs();
  const pub = await system.publish({ rate: opts.rate, durationMs: opts.durationMs, targets, ...(opts.random ? { random: true } : {}) });
  const expected = pub.published * opts.watchers;
  // Drain: until every delivery arrived, or nothing new arrives for 1 s, bounded by drainMs.
  const deadline = Date.now() + opts.drainMs;
  let last = -1;
  let still = 0;
  let s = await pool.stats();
  while (s.unique < expected && Date.now() < deadline && still < 4) {
    await sleep(250);
    s = await pool.stats();
    still = s.received === last ? still + 1 : 0;
    last = s.received;
  }
  const spanS = Math.max((s.lastRecvUs - startUs) / 1e6, pub.elapsedMs / 1000);
  const countersAfter = countersBefore.length > 0 ? await readNodeCounters(system.redisNodes) : [];
  const redis = nodeLoads(countersBefore, countersAfter, (nowUs() - startUs) / 1e6);
  const lost = Math.max(0, expected - s.unique);
  const p99Ms = s.hist.quantileMs(0.99);
  const publisherBehind = pub.published < 0.95 * Math.floor((opts.rate * opts.durationMs) / 1000);
  return {
    system: system.name,
    offered: opts.rate,
    published: pub.published,
    publishedPerSec: Math.round(pub.published / (pub.elapsedMs / 1000)),
    delivered: s.unique,
    deliveredPerSec: Math.round(s.unique / spanS),
    lost,
    duplicates: s.dups,
    p50Ms: s.hist.quantileMs(0.5),
    p99Ms,
    maxMs: s.hist.maxUs / 1000,
    publisherBehind,
    pass: lost === 0 && s.dups === 0 && p99Ms <= (opts.p99LimitMs ?? 50) && !publisherBehind,
    redis,
  };
}

/** Waits until clients stop receiving (a saturated system drains its backlog before the next one runs). */
export async function quiesce(pool: ClientPool, maxMs: number): Promise<void> {
  const deadline = Date.now() + maxMs;
  let last = -1;
  while (Date.now() < deadline) {
    const s = await pool.stats();
    if (s.received === last) return;
    last = s.received;
    await sleep(500);
  }
}
