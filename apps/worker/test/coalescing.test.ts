// Streamed deltas are merged before the publish script (issue 15): consecutive agent_output (and streamed
// agent_thinking) deltas of a run become one event per OUTPUT_COALESCE_MS window — opened at the first
// buffered delta, not a debounce — or per OUTPUT_COALESCE_MAX_BYTES; anything else the run emits publishes
// them first, so history holds the agent's order exactly. Real Redis, the real executeRun, publish script
// and demo agent.
import { type EventEnvelope, validateRunEvents } from "@agentcast/protocol";
import { ConversationStore, createKeys, EventLog, EventPublisher, TaskStore } from "@agentcast/store";
import { type RedisServerHandle, startRedisServer, until } from "@agentcast/testkit";
import { Redis } from "ioredis";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Agent, AgentContext } from "../src/agents/agent.js";
import { createDemoAgent } from "../src/agents/demo-agent.js";
import { demoStreamText } from "../src/agents/token-stream.js";
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

async function setup(coalesce: { windowMs: number; maxBytes: number }, input = "coalesce") {
  const keys = createKeys(`coalesce${++n}`);
  const tasks = new TaskStore(redis, { keys, historyTtlSeconds: 60 });
  const publisher = new EventPublisher(redis, { keys, historyMaxLen: 100_000, historyTtlSeconds: 60 });
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
    coalesce,
    requeue: async () => {},
    observer: { published: () => {}, toolFinished: () => {}, silentFailure: () => {}, runEnded: () => {} },
  };
  const active = new ActiveRuns(redis, keys.controlChannel, tasks, 1_000, 60_000, logger);
  const { taskId, runId } = await tasks.createTask("u", input);
  const job = { taskId, runId, userId: "u", text: input };
  const history = () => eventLog.readRun(taskId, runId);
  return { history, run: (agent: Agent) => executeRun(job, runId, agent, active, deps) };
}

const summary = (events: EventEnvelope[]) =>
  events.map((e) => {
    const d = e.data as { delta?: string; text?: string; percent?: number; toolCallId?: string };
    return [e.type, d.delta ?? d.text ?? d.percent ?? d.toolCallId].filter((x) => x !== undefined).join(":");
  });
const outputText = (events: EventEnvelope[]) =>
  events
    .filter((e) => e.type === "agent_output")
    .map((e) => (e.data as { delta: string }).delta)
    .join("");

describe("coalescing streamed deltas (worker side, before the publish script)", () => {
  it("merges consecutive deltas of one type; any other event publishes them first, in the agent's order", async () => {
    const { run, history } = await setup({ windowMs: 10_000, maxBytes: 4_096 });
    const outcome = await run({
      name: "order",
      async run(ctx) {
        await ctx.output("a");
        await ctx.output("b");
        await ctx.progress(50, "half");
        await ctx.output("c");
        await ctx.thinkingDelta("t1");
        await ctx.thinkingDelta("t2");
        await ctx.output("d");
        await ctx.tool("clock", {}, () => "now");
        await ctx.output("e");
        await ctx.output("f");
        return {};
      },
    });
    expect(outcome).toBe("succeeded");
    const events = await history();
    expect(summary(events)).toEqual([
      "agent_started",
      "agent_output:ab",
      "progress_update:50",
      "agent_output:c",
      "agent_thinking:t1t2",
      "agent_output:d",
      "tool_executing:tc_1",
      "tool_completed:tc_1",
      "agent_output:ef",
      "agent_completed",
    ]);
    expect(validateRunEvents(events)).toEqual([]);
  });

  it("a steady stream flushes every window (not a debounce): 600 tokens at 1,000/s in 40 ms windows, the text exact", async () => {
    const { run, history } = await setup({ windowMs: 40, maxBytes: 4_096 }, "/stream 600");
    const started = Date.now();
    expect(await run(createDemoAgent(0, 1_000))).toBe("succeeded");
    const elapsedMs = Date.now() - started;
    const events = await history();
    const outputs = events.filter((e) => e.type === "agent_output");
    expect(outputText(events)).toBe(demoStreamText(600));
    // A debounce would publish once at the end; one event per token would be 600.
    expect(outputs.length).toBeGreaterThan(3);
    expect(outputs.length).toBeLessThanOrEqual(Math.ceil(elapsedMs / 40) + 2);
    expect(events.filter((e) => e.type === "agent_thinking").map((e) => e.data)).toEqual([{ delta: "Planning a long answer." }]);
    expect(events.at(-1)?.data).toEqual({ status: "succeeded", result: { outputChars: demoStreamText(600).length } });
    expect(validateRunEvents(events)).toEqual([]);
  });

  it("OUTPUT_COALESCE_MS=0 turns it off: one event per token", async () => {
    const { run, history } = await setup({ windowMs: 0, maxBytes: 4_096 }, "/stream 50");
    expect(await run(createDemoAgent(0, 10_000))).toBe("succeeded");
    const events = await history();
    expect(events.filter((e) => e.type === "agent_output")).toHaveLength(50);
    expect(outputText(events)).toBe(demoStreamText(50));
  });

  it("closes a window early at OUTPUT_COALESCE_MAX_BYTES (UTF-8 bytes)", async () => {
    const { run, history } = await setup({ windowMs: 10_000, maxBytes: 16 });
    await run({
      name: "bytes",
      async run(ctx) {
        for (let i = 0; i < 10; i++) await ctx.output("é€ab"); // 2 + 3 + 2 = 7 bytes
        return {};
      },
    });
    const deltas = (await history()).filter((e) => e.type === "agent_output").map((e) => (e.data as { delta: string }).delta);
    expect(deltas.join("")).toBe("é€ab".repeat(10));
    // 16 bytes reached at the third delta (21 bytes): three per event, the last one at the run's end.
    expect(deltas).toEqual(["é€abé€abé€ab", "é€abé€abé€ab", "é€abé€abé€ab", "é€ab"]);
  });

  it("a cancel mid-stream publishes every delta the agent produced before the terminal event, and reports their count", async () => {
    const { run, history } = await setup({ windowMs: 40, maxBytes: 4_096 }, "/stream 100000");
    let ctxOf: AgentContext | undefined;
    const demo = createDemoAgent(0, 2_000);
    const outcome = run({
      name: "demo",
      run(ctx) {
        ctxOf = ctx;
        return demo.run(ctx);
      },
    });
    await until("some output published", async () => (await history()).filter((e) => e.type === "agent_output").length >= 3, 10_000, 10);
    (ctxOf as unknown as { notifyCancel(): void }).notifyCancel();
    expect(await outcome).toBe("cancelled");
    const events = await history();
    const text = outputText(events);
    expect(events.at(-1)?.data).toEqual({ status: "cancelled", result: { outputChars: text.length } });
    expect(text.length).toBeGreaterThan(0);
    expect(demoStreamText(100_000).startsWith(text)).toBe(true);
    expect(validateRunEvents(events)).toEqual([]);
  });
});
