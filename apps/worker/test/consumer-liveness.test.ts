// The worker's /healthz reflects whether its BullMQ consumer loop still runs (issue 13, item 12). A real
// worker process and a real Redis; BullMQ's main loop throws (a fault injected inside the process, see
// fixtures/consumer-fault-agent.mjs), `worker.run()` rejects and the process lives on, taking no jobs.
// Before, /healthz kept answering 200. Now it answers 503 with the reason, and the stop is logged and counted.
import { createKeys, EventLog, type RunJobData, runJobOptions, runQueueName, TaskStore } from "@agentcast/store";
import { type RedisServerHandle, startRedisServer, startWorkerProcess, until, type WorkerProcess } from "@agentcast/testkit";
import { Queue } from "bullmq";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const FAULT_AGENT = new URL("./fixtures/consumer-fault-agent.mjs", import.meta.url).pathname;
const FAIL = "fail the consumer loop";

let server: RedisServerHandle;
let redis: Redis;
let worker: WorkerProcess;
let queue: Queue<RunJobData>;
const keys = createKeys(`live${Date.now()}`);

beforeAll(async () => {
  server = await startRedisServer();
  redis = new Redis(server.url);
  queue = new Queue<RunJobData>(runQueueName(0), { connection: redis, prefix: keys.queuePrefix });
  worker = await startWorkerProcess({ redisUrl: server.url, agentModule: FAULT_AGENT, env: { REDIS_KEY_PREFIX: keys.prefix } });
}, 30_000);
afterAll(async () => {
  await worker?.[Symbol.asyncDispose]();
  await queue?.close();
  redis?.disconnect();
  await server?.[Symbol.asyncDispose]();
});

const healthz = async () => {
  const res = await fetch(`http://127.0.0.1:${worker.metricsPort}/healthz`);
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
};
const metric = async (name: string) => {
  const text = await (await fetch(`http://127.0.0.1:${worker.metricsPort}/metrics`)).text();
  const line = text.split("\n").find((l) => l.startsWith(`${name}{`) || l.startsWith(`${name} `));
  return line === undefined ? undefined : Number(line.split(" ").at(-1));
};

describe("worker liveness", () => {
  it("/healthz turns 503 once the BullMQ consumer loop has died, and says why; it is logged and counted", async () => {
    const tasks = new TaskStore(redis, { keys, historyTtlSeconds: 600 });
    const log = new EventLog(redis, keys);
    const enqueue = async (text: string) => {
      const { taskId, runId } = await tasks.createTask("liv", text);
      await queue.add("run", { taskId, runId, userId: "liv", text }, runJobOptions(runId));
      return { taskId, runId };
    };
    // Consuming: a run completes, and the worker is live.
    const first = await enqueue("hello");
    await until(
      "the first run",
      async () => (await log.readRun(first.taskId, first.runId)).find((e) => e.type === "agent_completed"),
      10_000,
      20,
    );
    expect(await healthz()).toEqual({ status: 200, body: { status: "ok" } });
    expect(await metric("agentcast_worker_consumer_stopped_total")).toBe(0);

    await enqueue(FAIL);
    const down = await until(
      "/healthz 503",
      async () => {
        const h = await healthz();
        return h.status === 503 ? h : undefined;
      },
      10_000,
      20,
    );
    expect(down.body).toEqual({ status: "down", reason: "the job consumer loop failed" });
    expect(await metric("agentcast_worker_consumer_stopped_total")).toBe(1);
    const logged = worker.child.output.filter((l) => l.includes('"msg":"job consumer stopped'));
    expect(logged).toHaveLength(1);
    expect(logged[0]).toContain("injected fault: BullMQ's main loop threw");
  }, 30_000);
});
