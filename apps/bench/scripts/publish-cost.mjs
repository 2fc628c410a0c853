// Redis time per published event, with nothing else on the machine's Redis: the real EventPublisher
// (seq + XADD history + SPUBLISH in one script) over 1,000 tasks, up to 4,096 scripts in flight, for
// 5 s; then Redis's own INFO commandstats and CPU. `docs/benchmarks.md` records what it found.
//   node apps/bench/scripts/publish-cost.mjs        (after `npm run build`)
import { createKeys, EventPublisher, TaskStore } from "@agentcast/store";
import { startRedisServer } from "@agentcast/testkit";
import { Redis } from "ioredis";

const TASKS = 1_000;
const IN_FLIGHT = 4_096;
const DURATION_MS = 5_000;

const server = await startRedisServer();
const redis = new Redis(server.url);
const keys = createKeys("ac");
const tasks = new TaskStore(redis, { keys, historyTtlSeconds: 3_600 });
const publisher = new EventPublisher(redis, { keys, historyMaxLen: 10_000, historyTtlSeconds: 3_600 });
const targets = [];
for (let i = 0; i < TASKS; i++) {
  const { taskId, runId } = await tasks.createTask(`u${i}`, "x");
  targets.push({ taskId, runId, userId: `u${i}` });
  await publisher.publish({ ...targets[i], type: "agent_started", data: { input: "x" } });
}
const cpu = async () => {
  const info = await redis.info("cpu");
  return Number(/used_cpu_user:([\d.]+)/.exec(info)?.[1]) + Number(/used_cpu_sys:([\d.]+)/.exec(info)?.[1]);
};
await redis.config("RESETSTAT");
const cpuBefore = await cpu();
const started = Date.now();
let published = 0;
let inFlight = 0;
while (Date.now() - started < DURATION_MS) {
  while (inFlight < IN_FLIGHT) {
    inFlight++;
    const target = targets[published++ % TASKS];
    void publisher.publish({ ...target, type: "agent_output", data: { delta: "x".repeat(150) } }).finally(() => inFlight--);
  }
  await new Promise((r) => setImmediate(r));
}
while (inFlight > 0) await new Promise((r) => setTimeout(r, 10));
const seconds = (Date.now() - started) / 1000;
const cpuSeconds = (await cpu()) - cpuBefore;
const stats = await redis.info("commandstats");
const perCall = (cmd) => new RegExp(`cmdstat_${cmd}:.*?usec_per_call=([\\d.]+)`).exec(stats)?.[1];
process.stdout.write(
  `${Math.round(published / seconds)} publishes/s; Redis CPU ${((100 * cpuSeconds) / seconds).toFixed(0)} % of a core; ` +
    `µs of Redis time per call: script ${perCall("evalsha")}, of which XADD ${perCall("xadd")}\n`,
);
redis.disconnect();
await server.stop();
