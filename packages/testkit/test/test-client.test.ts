import type { EventEnvelope } from "@agentcast/protocol";
import { describe, expect, it } from "vitest";
import { GatewayTestClient, signDevToken, startLocalStack, validateRun } from "../src/index.js";

describe("GatewayTestClient", () => {
  it("receive()/receiveJson() return messages in arrival order; timeouts list what did arrive", async () => {
    await using stack = await startLocalStack({ gateways: 1, workers: 1 });
    await using client = new GatewayTestClient({ url: stack.url, token: await signDevToken("tc") });
    await client.connect();
    expect((await client.receive()).name).toBe("connection_established");
    const ack = await client.command("user_message", { text: "what is 1+1" });
    if (!ack.ok) throw new Error(JSON.stringify(ack));
    expect(await client.receiveJson()).toMatchObject({ event: "task_created", data: { taskId: ack.taskId } });
    const first = await client.receiveJson({ timeoutMs: 5_000 });
    expect(first).toMatchObject({ event: "event", data: { type: "agent_started", seq: 1 } });
    await client.collectRun(ack.taskId);
    await expect(client.waitFor("pong", undefined, { timeoutMs: 200 })).rejects.toThrow(
      /waiting for "pong"; received: .*event\(agent_completed#\d+\)/,
    );
    // Drain what is buffered; then receive() times out, listing what arrived.
    let timeout: unknown;
    for (let i = 0; i < 100 && timeout === undefined; i++)
      await client.receive({ timeoutMs: 300 }).catch((err: unknown) => (timeout = err));
    expect(String(timeout)).toMatch(
      /timed out after 300 ms waiting for any message; received: connection_established, task_created, event\(agent_started#1\), .*event\(agent_completed#\d+\)/,
    );
    // collectRun with no run in flight waits for the next one, and says what arrived when none comes.
    await expect(client.collectRun(ack.taskId, { timeoutMs: 300 })).rejects.toThrow(
      new RegExp(
        `collectRun\\(${ack.taskId}\\): timed out after 300 ms waiting for a new run to start; received: .*event\\(agent_completed#\\d+\\)`,
      ),
    );
  });

  it("collectRun collects the current run, then each follow-up — never an earlier run's terminal", async () => {
    await using stack = await startLocalStack({ gateways: 1, workers: 1 });
    const token = await signDevToken("tc-follow");
    await using a = new GatewayTestClient({ url: stack.url, token });
    await using b = new GatewayTestClient({ url: stack.url, token });
    await a.connect();
    await b.connect();
    const first = await a.command("user_message", { text: "/tools 2 what is 1+1" });
    if (!first.ok) throw new Error(JSON.stringify(first));
    const { taskId } = first;
    const run1 = await a.collectRun(taskId);
    expect(new Set(run1.map((e) => e.runId))).toEqual(new Set([first.runId]));
    expect(validateRun(run1, { userId: "tc-follow" }).ok).toBe(true);

    // A follow-up sent by this client: the ack names the run to collect.
    const second = await a.command("user_message", { text: "/slow /tools 2 what is 2+2", taskId });
    if (!second.ok) throw new Error(JSON.stringify(second));
    const run2 = await a.collectRun(taskId);
    expect(run2[0]).toMatchObject({ type: "agent_started", runId: second.runId, seq: (run1.at(-1)?.seq ?? 0) + 1 });
    expect(run2.at(-1)).toMatchObject({ type: "agent_completed", runId: second.runId, data: { result: { answer: "2+2 = 4" } } });
    expect(validateRun(run2, { userId: "tc-follow" }).ok).toBe(true);

    // A follow-up sent by another client after the call: collected from its first event.
    const pending = a.collectRun(taskId); // decides at the call which run it waits for
    const third = await b.command("user_message", { text: "/ask what is 3+3", taskId });
    if (!third.ok) throw new Error(JSON.stringify(third));
    const question = (await a.waitForEvent("agent_question", taskId)) as Extract<EventEnvelope, { type: "agent_question" }>;
    // Still waiting: the run is open (before the fix, collectRun resolved at once with run 1's terminal). A
    // ping's ack arrives after everything received so far was handled: had `pending` resolved on any of it, it
    // would have done so first.
    const state = await Promise.race([pending.then(() => "resolved"), a.command("ping").then(() => "waiting")]);
    expect(state).toBe("waiting");
    await b.command("user_response", { taskId, questionId: question.data.questionId, response: "six" });
    const run3 = await pending;
    expect(run3[0]).toMatchObject({ type: "agent_started", runId: third.runId, seq: (run2.at(-1)?.seq ?? 0) + 1 });
    expect(run3.every((e) => e.runId === third.runId)).toBe(true);
    expect(validateRun(run3, { userId: "tc-follow", required: ["agent_started", "agent_question", "agent_completed"] }).ok).toBe(true);

    // A run that never ends: the timeout names the run and lists what arrived.
    const stuck = await a.command("user_message", { text: "/ask and wait", taskId });
    if (!stuck.ok) throw new Error(JSON.stringify(stuck));
    await a.waitFor("event", (p) => (p as EventEnvelope).runId === stuck.runId && (p as EventEnvelope).type === "agent_question");
    await expect(a.collectRun(taskId, { timeoutMs: 300 })).rejects.toThrow(
      new RegExp(`waiting for the terminal event of run ${stuck.runId}; received: .*event\\(agent_question#\\d+\\)`),
    );
    await a.command("cancel", { taskId }); // leave no run open (the worker would drain it on shutdown)
    expect((await a.collectRun(taskId)).at(-1)).toMatchObject({ runId: stuck.runId, data: { status: "cancelled" } });
  });
});
