import { type EventEnvelope, validateRunEvents } from "@agentcast/protocol";
import { startWorkerProcess } from "@agentcast/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Stack, startStack } from "./fixture.js";

describe("a worker killed mid-run", () => {
  let stack: Stack;
  const workerEnv = { JOB_LOCK_MS: "1000" };
  beforeAll(async () => {
    stack = await startStack({ gateways: 1, workers: 1, workerEnv });
  });
  afterAll(() => stack?.stop());

  it("is never a silent stall: the next worker closes the open tool call and ends the run with run_stalled", async () => {
    const alice = await stack.client("alice");
    const ack = await alice.command("user_message", { text: "/slow /tools 5 what is 1+1" });
    if (!ack.ok) throw new Error(JSON.stringify(ack));
    await alice.waitForEvent("tool_executing", ack.taskId);
    await stack.workers[0]?.kill();
    const killedAt = Date.now();
    const replacement = await startWorkerProcess({ redisUrl: stack.redis.url, env: workerEnv });
    stack.workers.push(replacement);
    const run = await alice.collectRun(ack.taskId, 20_000);
    const detectedInMs = Date.now() - killedAt;
    expect(validateRunEvents(run)).toEqual([]);
    expect(run.filter((e) => e.type === "agent_started")).toHaveLength(1);
    expect(run.at(-1)).toMatchObject({ type: "agent_error", data: { code: "run_stalled", retryable: true } });
    expect(run.at(-2)).toMatchObject({ type: "tool_completed", data: { ok: false } });
    expect(detectedInMs).toBeLessThan(10_000);
    // The task is free again.
    const next = await alice.command("user_message", { text: "what is 2+2", taskId: ack.taskId });
    if (!next.ok) throw new Error(JSON.stringify(next));
    const end = await alice.waitFor("event", (p) => {
      const e = p as EventEnvelope;
      return e.runId === next.runId && (e.type === "agent_completed" || e.type === "agent_error");
    });
    expect(end.payload).toMatchObject({ type: "agent_completed", data: { status: "succeeded" } });
  });
});
