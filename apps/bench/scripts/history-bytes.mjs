// Redis memory per stored event: 100 tasks × 200 events (a run's agent_started, then agent_output deltas of
// `--delta` characters, then tool events), published by the real EventPublisher into a fresh redis-server;
// reported as the growth of `used_memory` per event. `docs/capacity.md` uses it.
//   npm exec -- node apps/bench/scripts/history-bytes.mjs [--delta 40]
import { parseArgs } from "node:util";
import { createKeys, EventPublisher, TaskStore } from "@agentcast/store";
import { startRedisServer } from "@agentcast/testkit";
import { Redis } from "ioredis";

const { values } = parseArgs({ options: { delta: { type: "string", default: "40" } } });
const TASKS = 100;
const EVENTS = 200;
const server = await startRedisServer();
const redis = new Redis(server.url);
const keys = createKeys("ac");
const tasks = new TaskStore(redis, { keys, historyTtlSeconds: 3_600 });
const publisher = new EventPublisher(redis, { keys, historyMaxLen: 10_000, historyTtlSeconds: 3_600 });
const used = async () => Number(/used_memory:(\d+)/.exec(await redis.info("memory"))?.[1]);
const created = [];
for (let t = 0; t < TASKS; t++) created.push(await tasks.createTask(`u${t}`, "history bytes"));
const before = await used();
let n = 0;
for (const [t, { taskId, runId }] of created.entries()) {
  const base = { taskId, runId, userId: `u${t}` };
  await publisher.publish({ ...base, type: "agent_started", data: { input: "measure" } });
  n++;
  for (let i = 1; i < EVENTS; i++) {
    if (i % 20 === 0) {
      await publisher.publish({
        ...base,
        type: "tool_executing",
        data: { toolCallId: `c${i}`, tool: "lookup", args: { q: "x".repeat(20) } },
      });
      await publisher.publish({
        ...base,
        type: "tool_completed",
        data: { toolCallId: `c${i}`, tool: "lookup", ok: true, result: { v: 42 }, durationMs: 3 },
      });
      n += 2;
      i++;
    } else {
      await publisher.publish({ ...base, type: "agent_output", data: { delta: "y".repeat(Number(values.delta)) } });
      n++;
    }
  }
}
const after = await used();
process.stdout.write(
  `${n} events: ${((after - before) / n).toFixed(0)} bytes of Redis memory per stored event (delta ${values.delta} chars)\n`,
);
redis.disconnect();
await server.stop();
