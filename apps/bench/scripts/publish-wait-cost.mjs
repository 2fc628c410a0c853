// What REDIS_WAIT_REPLICAS costs per event, both ways in one run: a master with one replica (loopback),
// the real EventPublisher publishing positioned agent_output events (150-byte deltas), first with
// waitReplicas 0 (the script SPUBLISHes) then 1 (script appends, WAIT 1, SPUBLISH). For each: latency of
// one run publishing event after event (what a run's serial queue sees), throughput and the master's CPU
// per event with many runs publishing at once (WAITs are shared: group commit), and Redis's usec_per_call
// of each command.
// `docs/reliability.md` records what it found.
//   node apps/bench/scripts/publish-wait-cost.mjs        (after `npm run build`)
import { createKeys, EventPublisher, TaskStore } from "@agentcast/store";
import { startRedisServer } from "@agentcast/testkit";
import { Redis } from "ioredis";

const SERIAL_EVENTS = 3_000;
const RUNS = 200;
const DURATION_MS = 4_000;

const master = await startRedisServer();
const replica = await startRedisServer({ args: ["--replicaof", "127.0.0.1", String(master.port)] });
const redis = new Redis(master.url);
const replicaClient = new Redis(replica.url);
for (let i = 0; !/master_link_status:up/.test(await replicaClient.info("replication")); i++) {
  if (i > 100) throw new Error("replica did not sync");
  await new Promise((r) => setTimeout(r, 100));
}

const cpu = async () => {
  const info = await redis.info("cpu");
  return Number(/used_cpu_user:([\d.]+)/.exec(info)?.[1]) + Number(/used_cpu_sys:([\d.]+)/.exec(info)?.[1]);
};
const calls = (stats, cmd) => Number(new RegExp(`cmdstat_${cmd}:calls=(\\d+)`).exec(stats)?.[1] ?? 0);
const perCall = (stats, cmd) => Number(new RegExp(`cmdstat_${cmd}:.*?usec_per_call=([\\d.]+)`).exec(stats)?.[1] ?? 0);

async function measure(waitReplicas) {
  const keys = createKeys(`w${waitReplicas}`);
  const tasks = new TaskStore(redis, { keys, historyTtlSeconds: 3_600 });
  const publisher = new EventPublisher(redis, {
    keys,
    historyMaxLen: 10_000,
    historyTtlSeconds: 3_600,
    waitReplicas,
    waitTimeoutMs: 1_000,
  });
  const runs = [];
  for (let i = 0; i < RUNS; i++) {
    const { taskId, runId } = await tasks.createTask(`u${i}`, "x");
    const run = { taskId, runId, userId: `u${i}`, owner: `o${i}`, next: 0 };
    await publisher.publish({ ...run, type: "agent_started", data: { input: "x" }, position: { owner: run.owner, index: run.next++ } });
    runs.push(run);
  }
  const publishOne = (run) =>
    publisher.publish({
      ...run,
      type: "agent_output",
      data: { delta: "x".repeat(150) },
      position: { owner: run.owner, index: run.next++ },
    });

  // One run, one event at a time (its serial queue).
  const serial = runs[0];
  const latencies = [];
  for (let i = 0; i < SERIAL_EVENTS; i++) {
    const t0 = process.hrtime.bigint();
    await publishOne(serial);
    latencies.push(Number(process.hrtime.bigint() - t0) / 1_000);
  }
  latencies.sort((a, b) => a - b);
  const pct = (p) => Math.round(latencies[Math.floor((latencies.length - 1) * p)]);

  // Every run publishing event after event at once.
  await redis.config("RESETSTAT");
  const cpuBefore = await cpu();
  const started = Date.now();
  let published = 0;
  await Promise.all(
    runs.map(async (run) => {
      while (Date.now() - started < DURATION_MS) {
        await publishOne(run);
        published++;
      }
    }),
  );
  const seconds = (Date.now() - started) / 1000;
  const cpuSeconds = (await cpu()) - cpuBefore;
  const stats = await redis.info("commandstats");
  return {
    waitReplicas,
    serialLatencyUs: { p50: pct(0.5), p99: pct(0.99) },
    eventsPerSecond: Math.round(published / seconds),
    masterCpuUsPerEvent: Math.round((cpuSeconds * 1e6) / published),
    waitsPerEvent: Number((calls(stats, "wait") / published).toFixed(3)),
    usPerCall: {
      evalsha: perCall(stats, "evalsha"),
      wait: perCall(stats, "wait"),
      spublish: perCall(stats, "spublish"),
      exists: perCall(stats, "exists"),
    },
  };
}

try {
  for (const waitReplicas of [0, 1, 0, 1]) process.stdout.write(`${JSON.stringify(await measure(waitReplicas))}\n`);
} finally {
  redis.disconnect();
  replicaClient.disconnect();
  await replica[Symbol.asyncDispose]();
  await master[Symbol.asyncDispose]();
}
