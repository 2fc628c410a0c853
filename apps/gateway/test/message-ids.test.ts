// user_message.messageId: a message resent with the same id (its ack was lost) never starts a second
// run; the resending socket follows the run the first one started, from its first event.
import type { EventEnvelope } from "@agentcast/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Stack, seqProblem, startStack } from "./fixture.js";

const isEnd = (e: EventEnvelope) => e.type === "agent_completed" || e.type === "agent_error";

describe("user_message with a messageId", () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ gateways: 2, workers: 1 });
  });
  afterAll(() => stack?.stop());

  it("sent twice, from two sockets on two gateways: one run, both sockets get all of it", async () => {
    const first = await stack.client("mid-a", 0);
    const second = await stack.client("mid-a", 1);
    const one = await first.command("user_message", { text: "/tools 2 what is 2*21", messageId: "m-1" });
    const again = await second.command("user_message", { text: "/tools 2 what is 2*21", messageId: "m-1" });
    if (!one.ok || !again.ok) throw new Error(JSON.stringify([one, again]));
    expect(again).toEqual({ ok: true, taskId: one.taskId, runId: one.runId, duplicate: true });
    expect(one).not.toHaveProperty("duplicate");
    for (const c of [first, second]) {
      await c.waitFor("event", (p) => (p as EventEnvelope).taskId === one.taskId && isEnd(p as EventEnvelope));
      const run = c.events(one.taskId);
      expect(
        seqProblem(
          run.map((e) => e.seq),
          1,
          run.length,
        ),
      ).toBeNull();
      expect(run.filter((e) => e.type === "agent_started")).toHaveLength(1);
      expect(run.every((e) => e.runId === one.runId)).toBe(true);
    }
    // Later, the same id still names that run and starts nothing.
    const late = await first.command("user_message", { text: "/tools 2 what is 2*21", messageId: "m-1" });
    expect(late).toEqual({ ok: true, taskId: one.taskId, runId: one.runId, duplicate: true });
    const task = await stack.http(`/v1/tasks/${one.taskId}`, { userId: "mid-a" });
    expect(task.body).toMatchObject({ status: "succeeded", lastSeq: first.events(one.taskId).length });
  });

  it("a follow-up resent with its id is one run; the id cannot be reused for another task; ids are per user", async () => {
    const c = await stack.client("mid-b");
    const first = await c.command("user_message", { text: "what is 1+1" });
    if (!first.ok) throw new Error(JSON.stringify(first));
    await c.waitFor("event", (p) => (p as EventEnvelope).taskId === first.taskId && isEnd(p as EventEnvelope));
    const follow = await c.command("user_message", { text: "and 2+2", taskId: first.taskId, messageId: "f-1" });
    const resent = await c.command("user_message", { text: "and 2+2", taskId: first.taskId, messageId: "f-1" });
    if (!follow.ok) throw new Error(JSON.stringify(follow));
    expect(resent).toEqual({ ok: true, taskId: first.taskId, runId: follow.runId, duplicate: true });
    const other = await c.command("user_message", { text: "new task", messageId: "f-1" });
    expect(other).toMatchObject({ ok: false, error: { code: "invalid_payload" } });
    // Another user's message with the same id is theirs alone.
    const mallory = await stack.client("mid-mallory");
    const theirs = await mallory.command("user_message", { text: "what is 3+3", messageId: "f-1" });
    if (!theirs.ok) throw new Error(JSON.stringify(theirs));
    expect(theirs.taskId).not.toBe(first.taskId);
    expect(theirs).not.toHaveProperty("duplicate");
    await c.waitFor("event", (p) => (p as EventEnvelope).runId === follow.runId && isEnd(p as EventEnvelope));
    expect(c.events(first.taskId).filter((e) => e.type === "agent_started")).toHaveLength(2);
  });

  it("POST /v1/tasks with an Idempotency-Key header (or messageId) starts one task", async () => {
    const post = (headers: Record<string, string>, body: unknown) =>
      fetch(`${stack.gateways[0]?.url}/v1/tasks`, {
        method: "POST",
        headers: { "content-type": "application/json", ...headers },
        body: JSON.stringify(body),
      }).then(async (r) => ({ status: r.status, body: (await r.json()) as { taskId: string; runId: string; duplicate?: true } }));
    const auth = { authorization: `Bearer ${await stack.token("mid-http")}` };
    const a = await post({ ...auth, "idempotency-key": "k-42" }, { text: "what is 4+4" });
    const b = await post({ ...auth, "idempotency-key": "k-42" }, { text: "what is 4+4" });
    const c = await post(auth, { text: "what is 4+4", messageId: "k-42" });
    expect(a.status).toBe(202);
    expect(b).toEqual({ status: 202, body: { taskId: a.body.taskId, runId: a.body.runId, duplicate: true } });
    expect(c.body).toEqual(b.body);
    const list = await stack.http("/v1/tasks", { userId: "mid-http" });
    expect(list.body.tasks).toHaveLength(1);
  });
});
