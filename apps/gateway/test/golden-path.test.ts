import { type EventEnvelope, validateRunEvents } from "@agentcast/protocol";
import type { GatewayTestClient } from "@agentcast/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Stack, seqProblem, startStack } from "./fixture.js";
import { pingMarker } from "./ping-marker.js";

// The same suite on one Redis and on a local Redis Cluster (3 masters + 3 replicas).
describe.each(["single", "cluster"] as const)("golden path (%s Redis): two gateway processes, one worker", (mode) => {
  let stack: Stack;
  let alice1: GatewayTestClient; // gateway 1
  let alice2: GatewayTestClient; // gateway 2
  let bob1: GatewayTestClient;
  let bob2: GatewayTestClient;

  beforeAll(async () => {
    stack = await startStack({ gateways: 2, workers: 1, redis: mode });
    [alice1, alice2, bob1, bob2] = await Promise.all([
      stack.client("alice", 0),
      stack.client("alice", 1),
      stack.client("bob", 0),
      stack.client("bob", 1),
    ]);
  });
  afterAll(() => stack?.stop());

  it("connection_established names the user, the gateway and protocol 1", () => {
    expect(alice1.established).toMatchObject({ userId: "alice", gatewayId: "gw-1", protocol: 1 });
    expect(alice2.established).toMatchObject({ userId: "alice", gatewayId: "gw-2", protocol: 1 });
    expect(alice1.established?.connectionId).toEqual(expect.any(String));
  });

  it("streams a full run to the sender and to the owner's socket on the other gateway, and nothing to another user", async () => {
    const ack = await alice1.command("user_message", { text: "what is 6*7" });
    expect(ack).toMatchObject({ ok: true, taskId: expect.stringMatching(/^t_/), runId: expect.stringMatching(/^r_/) });
    if (!ack.ok) throw new Error("unreachable");
    const { taskId, runId } = ack;
    const notice = await alice2.waitFor("task_created", (p) => (p as { taskId: string }).taskId === taskId);
    expect(notice.payload).toMatchObject({ taskId, runId, title: "what is 6*7" });

    const sub = await alice2.command("subscribe", { taskId, sinceSeq: 0 });
    expect(sub).toMatchObject({ ok: true, taskId, lastSeq: expect.any(Number) });

    const [run1, run2] = await Promise.all([alice1.collectRun(taskId), alice2.collectRun(taskId)]);
    for (const run of [run1, run2]) {
      expect(
        seqProblem(
          run.map((e) => e.seq),
          1,
          run.length,
        ),
      ).toBeNull();
      expect(validateRunEvents(run)).toEqual([]);
      expect(run.every((e) => e.userId === "alice" && e.taskId === taskId && e.runId === runId && e.v === 1)).toBe(true);
    }
    expect(run2).toEqual(run1);
    const types = run1.map((e) => e.type);
    expect(types[0]).toBe("agent_started");
    expect(types).toContain("agent_thinking");
    expect(types).toContain("tool_executing");
    expect(types).toContain("agent_output");
    expect(run1.filter((e) => e.type === "progress_update").length).toBeGreaterThanOrEqual(2);
    const last = run1[run1.length - 1] as EventEnvelope;
    expect(last).toMatchObject({ type: "agent_completed", data: { status: "succeeded", result: { answer: "6*7 = 42" } } });
    const tool = run1.find((e) => e.type === "tool_completed");
    expect(tool?.data).toMatchObject({ tool: "calculator", ok: true, result: 42 });

    // Bob, connected to both gateways the whole time, saw nothing of Alice's (each gateway delivered the
    // run's last event to Alice's socket there; a ping on Bob's socket is answered after anything it wrote to him).
    await Promise.all([pingMarker(bob1), pingMarker(bob2)]);
    for (const bob of [bob1, bob2]) {
      expect(bob.events()).toEqual([]);
      expect(bob.received.filter((m) => m.name === "task_created")).toEqual([]);
    }
  });

  it("refuses another user's task over Socket.IO and HTTP, and says not_found for unknown tasks", async () => {
    const ack = await alice1.command("user_message", { text: "a private task" });
    if (!ack.ok) throw new Error(JSON.stringify(ack));
    await alice1.collectRun(ack.taskId);
    for (const bob of [bob1, bob2]) {
      expect(await bob.command("subscribe", { taskId: ack.taskId, sinceSeq: 0 })).toEqual({
        ok: false,
        error: { code: "forbidden", message: expect.any(String) },
      });
      expect(await bob.command("user_message", { text: "hijack", taskId: ack.taskId })).toMatchObject({
        ok: false,
        error: { code: "forbidden" },
      });
      expect(await bob.command("cancel", { taskId: ack.taskId })).toMatchObject({ ok: false, error: { code: "forbidden" } });
    }
    expect(await bob1.command("subscribe", { taskId: "t_doesnotexist" })).toMatchObject({ ok: false, error: { code: "not_found" } });
    for (const gateway of [0, 1]) {
      expect(await stack.http(`/v1/tasks/${ack.taskId}`, { userId: "bob", gateway })).toMatchObject({
        status: 403,
        body: { error: { code: "forbidden" } },
      });
      expect(await stack.http(`/v1/tasks/${ack.taskId}/events?sinceSeq=0`, { userId: "bob", gateway })).toMatchObject({
        status: 403,
        body: { error: { code: "forbidden" } },
      });
      expect(await stack.http("/v1/tasks/t_doesnotexist", { userId: "bob", gateway })).toMatchObject({
        status: 404,
        body: { error: { code: "not_found" } },
      });
    }
    const bobList = await stack.http("/v1/tasks", { userId: "bob" });
    expect(bobList.body.tasks.map((t: { taskId: string }) => t.taskId)).not.toContain(ack.taskId);
    // The refusals left Bob in no room of the task: a follow-up run streams to Alice on both gateways, and
    // once each gateway delivered its terminal event, a ping on each of Bob's sockets is answered after
    // anything those gateways wrote to him.
    expect(await alice2.command("subscribe", { taskId: ack.taskId })).toMatchObject({ ok: true });
    const followUp = await alice1.command("user_message", { text: "what is 2+2", taskId: ack.taskId });
    if (!followUp.ok) throw new Error(JSON.stringify(followUp));
    await Promise.all([alice1, alice2].map((a) => a.collectRun(ack.taskId, { runId: followUp.runId })));
    await Promise.all([pingMarker(bob1), pingMarker(bob2)]);
    expect(bob1.events()).toEqual([]);
    expect(bob2.events()).toEqual([]);
  });

  it("continues seq across runs of one task; a follow-up sent the moment a run ends is never task_busy", async () => {
    const first = await alice1.command("user_message", { text: "what is 1+1" });
    if (!first.ok) throw new Error(JSON.stringify(first));
    const { taskId } = first;
    expect(await alice1.command("user_message", { text: "too soon", taskId })).toMatchObject({ ok: false, error: { code: "task_busy" } });
    let lastSeq = (await alice1.collectRun(taskId)).length;
    for (let i = 0; i < 5; i++) {
      const from = alice1.received.length;
      const next = await alice1.command("user_message", { text: `what is ${i}+1`, taskId });
      expect(next).toMatchObject({ ok: true, taskId });
      if (!next.ok) return;
      await alice1.waitFor("event", (p) => (p as EventEnvelope).runId === next.runId && (p as EventEnvelope).type === "agent_completed", {
        fromIndex: from,
      });
      const run = alice1.events(taskId).filter((e) => e.runId === next.runId);
      expect(run[0]?.seq).toBe(lastSeq + 1);
      expect(validateRunEvents(run)).toEqual([]);
      lastSeq = run[run.length - 1]?.seq ?? 0;
    }
    expect(
      seqProblem(
        alice1.events(taskId).map((e) => e.seq),
        1,
        lastSeq,
      ),
    ).toBeNull();
    const task = await stack.http(`/v1/tasks/${taskId}`, { userId: "alice" });
    expect(task).toMatchObject({ status: 200, body: { taskId, status: "succeeded", lastSeq, runs: 6 } });
  });

  it("logged no warning or error on any gateway or worker", () => {
    expect(stack.problems()).toEqual([]);
  });
});
