// Issue 13, item 14, as it was reproduced against the built worker: a tool call that finishes at the moment
// its run is cancelled published `tool_executing:tc_1, tool_completed:tc_1:false, tool_completed:tc_1:true,
// agent_completed`. A real worker process (AGENT_MODULE), a real Redis, the cancel through the control
// channel as a gateway sends it; the history must hold one tool_completed per call and the terminal event last.
import { type EventEnvelope, validateRunEvents } from "@agentcast/protocol";
import { createKeys, EventLog, type RunJobData, runJobOptions, runQueueName, TaskStore } from "@agentcast/store";
import { type RedisServerHandle, startRedisServer, startWorkerProcess, until, type WorkerProcess } from "@agentcast/testkit";
import { Queue } from "bullmq";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const AGENT = new URL("./fixtures/tool-ends-at-cancel-agent.mjs", import.meta.url).pathname;

let server: RedisServerHandle;
let redis: Redis;
let worker: WorkerProcess;
let queue: Queue<RunJobData>;
const keys = createKeys(`cat${Date.now()}`);

beforeAll(async () => {
  server = await startRedisServer();
  redis = new Redis(server.url);
  queue = new Queue<RunJobData>(runQueueName(0), { connection: redis, prefix: keys.queuePrefix });
  worker = await startWorkerProcess({ redisUrl: server.url, agentModule: AGENT, env: { REDIS_KEY_PREFIX: keys.prefix } });
}, 30_000);
afterAll(async () => {
  await worker?.[Symbol.asyncDispose]();
  await queue?.close();
  redis?.disconnect();
  await server?.[Symbol.asyncDispose]();
});

const summary = (events: EventEnvelope[]) =>
  events.map((e) =>
    [e.type, (e.data as { toolCallId?: string }).toolCallId, (e.data as { ok?: boolean }).ok].filter((x) => x !== undefined).join(":"),
  );

describe("the built worker: cancel while a tool finishes", () => {
  it("publishes one tool_completed for the call, then agent_completed cancelled, last", async () => {
    const tasks = new TaskStore(redis, { keys, historyTtlSeconds: 600 });
    const log = new EventLog(redis, keys);
    const { taskId, runId } = await tasks.createTask("cat", "use the tool");
    await queue.add("run", { taskId, runId, userId: "cat", text: "use the tool" }, runJobOptions(runId));
    await until("tool_executing", async () => (await log.readRun(taskId, runId)).some((e) => e.type === "tool_executing"), 10_000, 20);
    expect(await tasks.requestCancel("cat", taskId)).toEqual({ ok: true, runId });
    await until("the task to be cancelled", async () => (await tasks.getTask(taskId))?.status === "cancelled", 10_000, 20);
    const events = await log.readRun(taskId, runId);
    expect(summary(events)).toEqual(["agent_started", "tool_executing:tc_1", "tool_completed:tc_1:false", "agent_completed"]);
    expect(validateRunEvents(events)).toEqual([]);
    expect(events.at(-1)?.data).toEqual({ status: "cancelled", result: { outputChars: 0 } });
  }, 30_000);
});
