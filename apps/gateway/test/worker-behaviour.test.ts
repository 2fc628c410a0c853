// What the worker's documented knobs and the demo agent's fallbacks really do, through a real stack.
import { spawnSync } from "node:child_process";
import type { EventEnvelope } from "@agentcast/protocol";
import { GATEWAY_ENTRY, WORKER_ENTRY } from "@agentcast/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Stack, startStack } from "./fixture.js";

/** `--print-config` with nothing but PATH (and what `env` adds): the defaults as the process resolves them. */
function printConfig(entry: string, env: Record<string, string> = {}): Record<string, unknown> {
  const res = spawnSync(process.execPath, [entry, "--print-config"], { env: { PATH: process.env.PATH ?? "", ...env }, encoding: "utf8" });
  expect(res.status, res.stderr).toBe(0);
  return JSON.parse(res.stdout) as Record<string, unknown>;
}

describe("documented defaults", () => {
  it("gateway: PORT 3000, REDIS_URL redis://127.0.0.1:6379, METRICS_PORT 9464", () => {
    expect(printConfig(GATEWAY_ENTRY, { JWT_SECRET: "x" })).toMatchObject({
      PORT: 3000,
      REDIS_URL: "redis://127.0.0.1:6379",
      METRICS_PORT: 9464,
    });
  });

  it("worker: REDIS_URL redis://127.0.0.1:6379, AGENT demo, DEMO_STEP_MS 150, METRICS_PORT 9465", () => {
    expect(printConfig(WORKER_ENTRY)).toMatchObject({
      REDIS_URL: "redis://127.0.0.1:6379",
      AGENT: "demo",
      DEMO_STEP_MS: 150,
      METRICS_PORT: 9465,
      WORKER_CONCURRENCY: expect.any(Number),
    });
  });
});

describe("one worker with WORKER_CONCURRENCY=2", () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ gateways: 1, workers: 1, workerEnv: { WORKER_CONCURRENCY: "2", DEMO_STEP_MS: "40" } });
  });
  afterAll(async () => {
    await stack?.stop();
  });

  it("runs at most two agents at once; the third starts only when one has finished", async () => {
    const users = ["cc-a", "cc-b", "cc-c"];
    const clients = await Promise.all(users.map((u) => stack.client(u)));
    const acks = await Promise.all(clients.map((c) => c.command("user_message", { text: "/slow think about it" })));
    const runs: EventEnvelope[][] = await Promise.all(
      clients.map(async (c, i) => {
        const ack = acks[i] as { ok: true; taskId: string };
        expect(ack.ok).toBe(true);
        await c.waitFor("event", (p) => (p as EventEnvelope).taskId === ack.taskId && (p as EventEnvelope).type === "agent_completed", {
          timeoutMs: 30_000,
        });
        return c.events(ack.taskId);
      }),
    );
    const span = (run: EventEnvelope[]) => ({
      start: run.find((e) => e.type === "agent_started")?.ts ?? Number.NaN,
      end: run.find((e) => e.type === "agent_completed")?.ts ?? Number.NaN,
    });
    const spans = runs.map(span).sort((a, b) => a.start - b.start);
    const [first, second, third] = spans as [ReturnType<typeof span>, ReturnType<typeof span>, ReturnType<typeof span>];
    // The first two overlap (concurrency 2 is used) …
    expect(second.start).toBeLessThan(first.end);
    // … and the third waited for a free slot.
    expect(third.start).toBeGreaterThanOrEqual(Math.min(first.end, second.end));
  });

  it("without arithmetic in the text, the demo agent calls its clock tool", async () => {
    const c = await stack.client("clock-user");
    const ack = (await c.command("user_message", { text: "what time is it" })) as { ok: true; taskId: string };
    await c.waitFor("event", (p) => (p as EventEnvelope).taskId === ack.taskId && (p as EventEnvelope).type === "agent_completed");
    const tools = c.events(ack.taskId).filter((e) => e.type === "tool_executing" || e.type === "tool_completed");
    expect(tools.map((e) => [e.type, (e.data as { tool: string }).tool])).toEqual([
      ["tool_executing", "clock"],
      ["tool_completed", "clock"],
    ]);
    const completed = tools[1]?.data as { ok: boolean; result?: unknown };
    expect(completed.ok).toBe(true);
    expect(JSON.stringify(completed.result)).toMatch(/\d{4}-\d\d-\d\dT\d\d:\d\d/); // an ISO time
  });
});
