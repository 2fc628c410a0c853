// A run's events are one serial order (issue 13, item 14): checking the run rules, publishing and
// applying an event happen in one step, and the run's ending (close the tools open at that moment, then
// the terminal event) is one step of the same order. Real Redis, the real executeRun and publish script;
// the interleavings are forced from the test: a tool that resolves right at the cancel, and a cancel
// that arrives while tool_executing is being published.
import { type EventEnvelope, validateRunEvents } from "@agentcast/protocol";
import { ConversationStore, createKeys, EventLog, EventPublisher, type EventToPublish, type Published, TaskStore } from "@agentcast/store";
import { type RedisServerHandle, startRedisServer, until } from "@agentcast/testkit";
import { Redis } from "ioredis";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Agent, AgentContext } from "../src/agents/agent.js";
import { ActiveRuns } from "../src/control/active-runs.js";
import { type ExecuteRunDeps, executeRun } from "../src/runs/execute-run.js";

let server: RedisServerHandle;
let redis: Redis;
let n = 0;

beforeAll(async () => {
  server = await startRedisServer();
  redis = new Redis(server.url);
});
afterAll(async () => {
  redis?.disconnect();
  await server?.[Symbol.asyncDispose]();
});

/** A real publisher that can act the moment an event's script call has been sent, before its answer. */
class ObservedPublisher extends EventPublisher {
  onSent: (event: EventToPublish) => void = () => {};
  override publish(event: EventToPublish): Promise<Published> {
    const published = super.publish(event);
    this.onSent(event);
    return published;
  }
}

function deferred<T>() {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

async function setup() {
  const keys = createKeys(`serial${++n}`);
  const tasks = new TaskStore(redis, { keys, historyTtlSeconds: 60 });
  const publisher = new ObservedPublisher(redis, { keys, historyMaxLen: 1_000, historyTtlSeconds: 60 });
  const eventLog = new EventLog(redis, keys);
  const logger = pino({ level: "silent" });
  const deps: ExecuteRunDeps = {
    eventLog,
    conversations: new ConversationStore(redis, keys),
    conversationBounds: { maxTurns: 50, maxBytes: 262_144, maxAnswerChars: 32_768, ttlSeconds: 60 },
    publisher,
    tasks,
    logger,
    pollIntervalMs: 1_000,
    requeue: async () => {},
    observer: { published: () => {}, toolFinished: () => {}, silentFailure: () => {}, runEnded: () => {} },
  };
  const active = new ActiveRuns(redis, keys.controlChannel, tasks, 1_000, 60_000, logger);
  const { taskId, runId } = await tasks.createTask("u", "serial");
  const job = { taskId, runId, userId: "u", text: "serial" };
  const history = () => eventLog.readRun(taskId, runId);
  return { publisher, deps, active, job, history, run: (agent: Agent) => executeRun(job, runId, agent, active, deps) };
}

const cancel = (ctx: AgentContext) => (ctx as unknown as { notifyCancel(): void }).notifyCancel();
const summary = (events: EventEnvelope[]) =>
  events.map((e) =>
    [e.type, (e.data as { toolCallId?: string }).toolCallId, (e.data as { ok?: boolean }).ok].filter((x) => x !== undefined).join(":"),
  );

/** The run ended with exactly one terminal event, last, one tool_completed per tool call, none left open. */
function expectWellFormed(events: EventEnvelope[]) {
  expect(validateRunEvents(events)).toEqual([]);
  const completed = events.filter((e) => e.type === "tool_completed").map((e) => (e.data as { toolCallId: string }).toolCallId);
  expect(completed).toEqual([...new Set(completed)]);
  expect(events.filter((e) => e.type === "agent_completed" || e.type === "agent_error")).toHaveLength(1);
}

describe("cancel while a tool runs", () => {
  it("the tool's own success resolving at the cancel publishes no second tool_completed", async () => {
    const { job, history, run } = await setup();
    const gate = deferred<string>();
    const started = deferred<AgentContext>();
    const outcome = run({
      name: "gated",
      async run(ctx) {
        started.resolve(ctx);
        const value = await ctx.tool("gated", {}, () => gate.promise);
        return { result: value };
      },
    });
    const ctx = await started.promise;
    await until("tool_executing in history", async () => (await history()).some((e) => e.type === "tool_executing"), 5_000, 5);
    cancel(ctx); // the executor starts closing tc_1 …
    gate.resolve("too late"); // … while the tool's success path runs
    expect(await outcome).toBe("cancelled");
    const events = await history();
    expect(summary(events)).toEqual(["agent_started", "tool_executing:tc_1", "tool_completed:tc_1:false", "agent_completed"]);
    expectWellFormed(events);
    expect(events.at(-1)?.data).toEqual({ status: "cancelled", result: { outputChars: 0 } });
    expect(job.runId).toBe(events[0]?.runId);
  });

  it("a cancel while tool_executing is being published: the ending closes that tool before the terminal event", async () => {
    const { publisher, history, run } = await setup();
    let ctx: AgentContext | undefined;
    publisher.onSent = (event) => {
      if (event.type === "tool_executing" && ctx) cancel(ctx); // sent to Redis, not yet answered
    };
    const outcome = run({
      name: "never-returns",
      async run(c) {
        ctx = c;
        await c.tool("forever", {}, () => new Promise<never>(() => {}));
        return {};
      },
    });
    expect(await outcome).toBe("cancelled");
    const events = await history();
    expect(summary(events)).toEqual(["agent_started", "tool_executing:tc_1", "tool_completed:tc_1:false", "agent_completed"]);
    expectWellFormed(events);
  });

  it("after the terminal event the run refuses the agent's late calls: they throw and publish nothing", async () => {
    const { history, run } = await setup();
    let ctx: AgentContext | undefined;
    const outcome = await run({
      name: "returns-early",
      async run(c) {
        ctx = c;
        await c.output("hello");
        return { result: "done" };
      },
    });
    expect(outcome).toBe("succeeded");
    const late = ctx as AgentContext;
    await expect(late.output("late")).rejects.toMatchObject({ name: "RunEnded" });
    await expect(late.tool("late", {}, () => 1)).rejects.toMatchObject({ name: "RunEnded" });
    expect(late.signal.aborted).toBe(true);
    const events = await history();
    expect(summary(events)).toEqual(["agent_started", "agent_output", "agent_completed"]);
    expectWellFormed(events);
  });
});

describe("a publish that failed without an answer", () => {
  for (const landed of [true, false]) {
    it(`is sent again, same index, before the run's next event: in history exactly once (${landed ? "it had landed" : "it had not"})`, async () => {
      const { publisher, history, run } = await setup();
      let failed = false;
      const lostReply = publisher.publish.bind(publisher);
      publisher.publish = async (event) => {
        if (failed || event.type !== "agent_output") return lostReply(event);
        failed = true;
        if (landed) await lostReply(event); // Redis ran it; the answer is lost
        throw new Error("Connection is closed.");
      };
      const outcome = await run({
        name: "carries-on",
        async run(ctx) {
          await expect(ctx.output("a")).rejects.toThrow("Connection is closed.");
          await ctx.output("b");
          return {};
        },
      });
      expect(outcome).toBe("succeeded");
      const events = await history();
      expect(events.map((e) => [e.type, (e.data as { delta?: string }).delta].filter(Boolean).join(":"))).toEqual([
        "agent_started",
        "agent_output:a",
        "agent_output:b",
        "agent_completed",
      ]);
      expectWellFormed(events);
    });
  }
});
