// What coalescing costs a token in latency, and what it saves in events: STREAMS runs at once, each
// streaming 1,000 4-character tokens at 100 tokens/s through a real worker process (the agent in
// fixtures/timed-token-agent.mjs), watched on the tasks' shard channels as a gateway receives them. For
// OUTPUT_COALESCE_MS 0 and 40, side by side: events published per stream per second, and each token's
// latency from when it was produced to when its event reached the subscriber.
// `docs/benchmarks.md` records what it found.
//   node apps/bench/scripts/coalesce-latency.mjs        (after `npm run build`)
import { fileURLToPath } from "node:url";
import { createKeys, parseTaskFrame, runJobOptions, runQueueName, TaskStore } from "@agentcast/store";
import { startRedisServer, startWorkerProcess } from "@agentcast/testkit";
import { Queue } from "bullmq";
import { Redis } from "ioredis";

const STREAMS = 20;
const TOKENS = 1_000;
const RATE = 100;
const AGENT = fileURLToPath(new URL("./fixtures/timed-token-agent.mjs", import.meta.url));

const server = await startRedisServer();
const redis = new Redis(server.url);
const rows = [];
for (const windowMs of [0, 40, 0, 40]) {
  const keys = createKeys(`lat${rows.length}`);
  const worker = await startWorkerProcess({
    redisUrl: server.url,
    agentModule: AGENT,
    env: {
      REDIS_KEY_PREFIX: keys.prefix,
      OUTPUT_COALESCE_MS: String(windowMs),
      WORKER_CONCURRENCY: String(STREAMS),
      BENCH_TOKENS: String(TOKENS),
      BENCH_TOKEN_RATE: String(RATE),
    },
  });
  const tasks = new TaskStore(redis, { keys, historyTtlSeconds: 600 });
  const queue = new Queue(runQueueName(0), { connection: redis, prefix: keys.queuePrefix });
  const sub = new Redis(server.url);
  const latencies = [];
  const starts = new Map();
  let events = 0;
  let done = 0;
  const finished = new Promise((resolve) => {
    sub.on("smessageBuffer", (channel, message) => {
      const frame = parseTaskFrame(message, channel);
      if (!frame) return;
      const e = JSON.parse(frame.envelopeJson.toString());
      const now = Date.now();
      if (e.type === "agent_thinking") starts.set(e.taskId, Number(e.data.text));
      if (e.type === "agent_output") {
        events++;
        const start = starts.get(e.taskId);
        for (let k = 0; k < e.data.delta.length; k += 4)
          latencies.push(now - (start + (Number.parseInt(e.data.delta.slice(k, k + 4), 36) * 1000) / RATE));
      }
      if (e.type === "agent_completed" && ++done === STREAMS) resolve();
    });
  });
  const created = [];
  for (let i = 0; i < STREAMS; i++) created.push(await tasks.createTask(`u${i}`, "stream"));
  await Promise.all(created.map((t) => sub.ssubscribe(`socket.io#/#task:{${t.taskId}}#`)));
  for (const [i, t] of created.entries())
    await queue.add("run", { taskId: t.taskId, runId: t.runId, userId: `u${i}`, text: "stream" }, runJobOptions(t.runId));
  await Promise.race([finished, new Promise((_, reject) => setTimeout(() => reject(new Error("runs did not finish in 60 s")), 60_000))]);
  latencies.sort((a, b) => a - b);
  const q = (p) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))];
  rows.push({
    windowMs,
    tokens: latencies.length,
    eventsPerStreamPerSec: (events / STREAMS / (TOKENS / RATE)).toFixed(1),
    latencyMs: { p50: q(0.5), p99: q(0.99), max: latencies.at(-1) },
  });
  sub.disconnect();
  await queue.close();
  await worker.stop();
}
redis.disconnect();
await server[Symbol.asyncDispose]();
console.log("| OUTPUT_COALESCE_MS | tokens received | agent_output events per stream per s | token latency p50 / p99 / max (ms) |");
console.log("|---|---|---|---|");
for (const r of rows)
  console.log(
    `| ${r.windowMs} | ${r.tokens} | ${r.eventsPerStreamPerSec} | ${r.latencyMs.p50} / ${r.latencyMs.p99} / ${r.latencyMs.max} |`,
  );
process.exit(0);
