import { type EventEnvelope, validateRunEvents } from "@agentcast/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Stack, startStack } from "./fixture.js";

describe("questions, cancel and failure", () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ gateways: 2, workers: 1 });
  });
  afterAll(() => stack?.stop());

  it("/ask: agent_question → user_response (from another gateway) → the run completes with the answer", async () => {
    const a1 = await stack.client("alice", 0);
    const a2 = await stack.client("alice", 1);
    const bob = await stack.client("bob", 1);
    const ack = await a1.command("user_message", { text: "/ask what is 6*7" });
    if (!ack.ok) throw new Error(JSON.stringify(ack));
    const q = await a1.waitForEvent("agent_question", ack.taskId);
    if (q.type !== "agent_question") throw new Error("unreachable");
    const { questionId } = q.data;
    expect(q.data.prompt).toContain("42");
    expect(await a2.command("user_response", { taskId: ack.taskId, questionId: "q_wrong", response: "x" })).toMatchObject({
      ok: false,
      error: { code: "not_found" },
    });
    expect(await bob.command("user_response", { taskId: ack.taskId, questionId, response: "x" })).toMatchObject({
      ok: false,
      error: { code: "forbidden" },
    });
    expect(await a2.command("user_response", { taskId: ack.taskId, questionId, response: "show your working" })).toEqual({
      ok: true,
      taskId: ack.taskId,
      questionId,
    });
    expect(await a2.command("user_response", { taskId: ack.taskId, questionId, response: "twice" })).toMatchObject({
      ok: false,
      error: { code: "not_found" },
    });
    const run = await a1.collectRun(ack.taskId);
    expect(validateRunEvents(run)).toEqual([]);
    expect(run.at(-1)).toMatchObject({
      type: "agent_completed",
      data: { status: "succeeded", result: { answer: "6*7 = 42", userResponse: "show your working" } },
    });
    expect(run.map((e) => e.data).some((d) => JSON.stringify(d).includes("show your working"))).toBe(true);
  });

  it("cancel mid-tool: the open tool call is closed, then agent_completed { status: cancelled }", async () => {
    const a = await stack.client("carol", 0);
    const other = await stack.client("carol", 1);
    const ack = await a.command("user_message", { text: "/slow /tools 3 what is 1+2" });
    if (!ack.ok) throw new Error(JSON.stringify(ack));
    await a.waitForEvent("tool_executing", ack.taskId);
    expect(await other.command("cancel", { taskId: ack.taskId })).toEqual({ ok: true, taskId: ack.taskId, runId: ack.runId });
    const run = await a.collectRun(ack.taskId);
    expect(validateRunEvents(run)).toEqual([]);
    expect(run.at(-1)).toMatchObject({ type: "agent_completed", data: { status: "cancelled" } });
    const closed = run.find((e) => e.type === "tool_completed" && e.data.ok === false);
    expect(closed?.data).toMatchObject({ ok: false, error: "cancelled" });
    expect(run.filter((e) => e.type === "tool_executing").length).toBeLessThan(3);
    expect(await a.command("cancel", { taskId: ack.taskId })).toMatchObject({ ok: false, error: { code: "task_not_running" } });
    expect((await stack.http(`/v1/tasks/${ack.taskId}`, { userId: "carol" })).body).toMatchObject({ status: "cancelled" });
    // A cancelled task takes a follow-up.
    const next = await a.command("user_message", { text: "what is 2+2", taskId: ack.taskId });
    expect(next).toMatchObject({ ok: true });
  });

  it("cancel while waiting on a question ends the run cancelled", async () => {
    const a = await stack.client("dan", 0);
    const ack = await a.command("user_message", { text: "/ask hello" });
    if (!ack.ok) throw new Error(JSON.stringify(ack));
    const q = (await a.waitForEvent("agent_question", ack.taskId)) as Extract<EventEnvelope, { type: "agent_question" }>;
    expect(await a.command("cancel", { taskId: ack.taskId })).toMatchObject({ ok: true });
    const run = await a.collectRun(ack.taskId);
    expect(run.at(-1)).toMatchObject({ type: "agent_completed", data: { status: "cancelled" } });
    expect(await a.command("user_response", { taskId: ack.taskId, questionId: q.data.questionId, response: "late" })).toMatchObject({
      ok: false,
      error: { code: "not_found" },
    });
  });

  it("/fail ends the run with agent_error { code: agent_failed }; the task takes a follow-up", async () => {
    const a = await stack.client("erin", 0);
    const ack = await a.command("user_message", { text: "/fail please" });
    if (!ack.ok) throw new Error(JSON.stringify(ack));
    const run = await a.collectRun(ack.taskId);
    expect(validateRunEvents(run)).toEqual([]);
    expect(run[0]?.type).toBe("agent_started");
    expect(run.at(-1)).toMatchObject({
      type: "agent_error",
      data: { code: "agent_failed", retryable: false, message: expect.any(String) },
    });
    expect((await stack.http(`/v1/tasks/${ack.taskId}`, { userId: "erin" })).body).toMatchObject({ status: "failed" });
    expect(await a.command("user_message", { text: "try again 1+1", taskId: ack.taskId })).toMatchObject({ ok: true });
  });
});
