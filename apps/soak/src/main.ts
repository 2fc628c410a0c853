// `npm run soak -- --minutes N [--users U] [--seed S]`: mixed load against a local stack (2 gateways
// behind a balancer, a worker, its own redis-server) for N minutes — connect churn, runs of every
// kind, questions answered, cancels, resumes after drops, bad frames — then a summary. Exits 1 on
// any lost, duplicated or out-of-order event, a stalled run, or a bad frame left without a coded error.
import { mkdirSync, writeFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { signDevToken, startLocalStack } from "@agentcast/testkit";
import { badFrames } from "./bad-frames.js";
import { sampleRss } from "./rss-sampler.js";
import { newStats } from "./stats.js";
import { formatSummary, soakFailures } from "./summary.js";
import { virtualUser } from "./virtual-user.js";

const { values } = parseArgs({
  options: {
    minutes: { type: "string", default: "1" },
    users: { type: "string", default: "40" },
    seed: { type: "string", default: "1" },
    out: { type: "string", default: "soak-results" },
  },
});
const minutes = Number(values.minutes);
const users = Number(values.users);
if (!(minutes > 0 && minutes <= 24 * 60) || !(users >= 1 && users <= 2_000)) {
  process.stderr.write("usage: npm run soak -- --minutes N (0 < N ≤ 1440) [--users U (1–2000)] [--seed S]\n");
  process.exit(2);
}

/** mulberry32: a seeded generator, so a run's mix of kinds can be repeated. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

const stack = await startLocalStack({
  gateways: 2,
  workers: 1,
  balancerPort: 0,
  gatewayEnv: { CONNECT_RATE_PER_IP_PER_SEC: "100000", CONNECT_BURST_PER_IP: "100000" },
  workerEnv: { WORKER_CONCURRENCY: String(Math.min(users, 100)), DEMO_STEP_MS: "40" },
});
const stats = newStats();
const startedAt = Date.now();
const until = startedAt + minutes * 60_000;
const rss = sampleRss(
  [
    ...stack.gateways.map((g) => ({ name: g.id, metricsPort: g.metricsPort })),
    ...stack.workers.map((w, i) => ({ name: `worker-${i + 1}`, metricsPort: w.metricsPort })),
  ],
  Math.max(5_000, (minutes * 60_000) / 20),
);
process.stdout.write(`soak: ${users} users for ${minutes} min against ${stack.url}\n`);
const random = seeded(Number(values.seed));
try {
  await Promise.all([
    ...Array.from({ length: users }, async (_, i) =>
      virtualUser({
        url: stack.url,
        userId: `soak-${i}`,
        token: await signDevToken(`soak-${i}`),
        until,
        stats,
        runTimeoutMs: 60_000,
        random,
      }),
    ),
    badFrames({ url: stack.url, token: await signDevToken("soak-hostile"), until, everyMs: 100, stats }),
  ]);
} finally {
  await rss.stop();
  await stack.stop();
}
const elapsedS = (Date.now() - startedAt) / 1000;
const summary = formatSummary({ minutes, users, elapsedS, stats, rss: rss.trends });
process.stdout.write(`${summary}\n`);
mkdirSync(values.out, { recursive: true });
const file = `${values.out}/soak-${new Date().toISOString().replace(/[:.]/g, "-")}.json`;
writeFileSync(file, JSON.stringify({ minutes, users, elapsedS, stats, rss: rss.trends }, null, 2));
process.stdout.write(`written: ${file}\n`);
const failures = soakFailures(stats);
if (failures.length > 0) {
  process.stderr.write(`SOAK FAILED: ${failures.join("; ")}\n`);
  process.exit(1);
}
