// Issue 17, "Out" 2: POST /v1/ag-ui driven by AG-UI's own HttpAgent; every emitted event checked against
// @ag-ui/core's EventSchemas; GET /v1/ag-ui/:threadId/stream with Last-Event-ID resumes on the other gateway.
import { randomUUID } from "node:crypto";
import { type BaseEvent, HttpAgent } from "@ag-ui/client";
import { EventSchemas } from "@ag-ui/core/schemas";
import type { EventEnvelope } from "@agentcast/protocol";
import { until } from "@agentcast/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Stack, startStack } from "./fixture.js";
import { type SseFrame, SseStream } from "./sse-client.js";

type AgUi = { type: string } & Record<string, unknown>;

describe("AG-UI: POST /v1/ag-ui and GET /v1/ag-ui/:threadId/stream", () => {
  let stack: Stack;
  const streams: SseStream[] = [];
  beforeAll(async () => {
    stack = await startStack({ gateways: 2, workers: 1 });
  });
  afterAll(async () => {
    for (const s of streams) s.abort();
    await stack?.stop();
  });

  const agentFor = async (userId: string, threadId: string, gateway = 0) =>
    new HttpAgent({
      url: `${stack.gateways[gateway]?.url}/v1/ag-ui`,
      headers: { authorization: `Bearer ${await stack.token(userId)}` },
      threadId,
    });
  const run = async (agent: HttpAgent, text: string, runId = `run-${randomUUID()}`) => {
    agent.addMessage({ id: randomUUID(), role: "user", content: text });
    const events: AgUi[] = [];
    const result = await agent.runAgent({ runId }, { onEvent: ({ event }: { event: BaseEvent }) => void events.push(event as AgUi) });
    return { events, result, runId };
  };
  const history = async (userId: string, taskId: string) =>
    (await stack.http(`/v1/tasks/${taskId}/events?sinceSeq=0`, { userId })).body.events as EventEnvelope[];
  const textOf = (events: { type: string; delta?: unknown }[]) =>
    events
      .filter((e) => e.type === "TEXT_MESSAGE_CONTENT")
      .map((e) => e.delta)
      .join("");

  it("HttpAgent runs the agent: RUN_STARTED first with its thread and run ids, every event valid, the text once, RUN_FINISHED last", async () => {
    const threadId = `th_${randomUUID().slice(0, 8)}`;
    const agent = await agentFor("ag-ann", threadId);
    const { events, runId } = await run(agent, "/tools 2 sum 20+22");
    for (const e of events) expect({ e, ok: EventSchemas.safeParse(e).success }).toEqual({ e, ok: true });
    expect(events[0]).toMatchObject({ type: "RUN_STARTED", threadId, runId });
    expect(events.at(-1)).toMatchObject({ type: "RUN_FINISHED", threadId, runId, outcome: { type: "success" } });
    const types = events.map((e) => e.type);
    for (const t of [
      "REASONING_START",
      "REASONING_MESSAGE_CONTENT",
      "TOOL_CALL_START",
      "TOOL_CALL_ARGS",
      "TOOL_CALL_END",
      "TOOL_CALL_RESULT",
      "TEXT_MESSAGE_START",
      "TEXT_MESSAGE_END",
    ])
      expect(types).toContain(t);
    expect(events.filter((e) => e.type === "CUSTOM").map((e) => e.name)).toContain("agentcast.progress");
    // The thread id became the task: its history is what was streamed.
    const task = await history("ag-ann", threadId);
    const output = task
      .filter((e) => e.type === "agent_output")
      .map((e) => (e.data as { delta: string }).delta)
      .join("");
    expect(textOf(events)).toBe(output);
    expect(output).toContain("42");
    // HttpAgent's own state: the assistant message holds the text once.
    const assistant = agent.messages.filter((m) => m.role === "assistant" && typeof m.content === "string" && m.content.length > 0);
    expect(assistant.map((m) => m.content)).toEqual([output]);
    // Reasoning never mixes into the text.
    const reasoning = events
      .filter((e) => e.type === "REASONING_MESSAGE_CONTENT")
      .map((e) => e.delta)
      .join("");
    expect(output).not.toContain(reasoning.slice(0, 20));

    // A follow-up on the same thread is a second run of the same task.
    const second = await run(agent, "and 1+1?");
    expect(second.events[0]).toMatchObject({ type: "RUN_STARTED", threadId, runId: second.runId });
    expect((await stack.http(`/v1/tasks/${threadId}`, { userId: "ag-ann" })).body).toMatchObject({ runs: 2, status: "succeeded" });
  });

  it("a thread owned by another user is refused; malformed input is invalid_payload", async () => {
    const threadId = `th_${randomUUID().slice(0, 8)}`;
    await run(await agentFor("ag-bo", threadId), "hello");
    const post = (userId: string, body: unknown) => stack.http("/v1/ag-ui", { userId, body });
    const input = (over: object) => ({
      threadId,
      runId: "r1",
      messages: [{ id: "m1", role: "user", content: "hi" }],
      tools: [],
      context: [],
      ...over,
    });
    expect((await post("ag-cy", input({}))).body).toMatchObject({ error: { code: "forbidden" } });
    expect((await post("ag-bo", input({ threadId: "has space" }))).body).toMatchObject({ error: { code: "invalid_payload" } });
    expect((await post("ag-bo", input({ messages: [{ id: "m1", role: "assistant", content: "no user" }] }))).body).toMatchObject({
      error: { code: "invalid_payload" },
    });
    expect((await post("ag-bo", { threadId, messages: "nope" })).body).toMatchObject({ error: { code: "invalid_payload" } });
    expect((await post("ag-bo", input({ messages: [{ id: "m1", role: "user", content: "   " }] }))).status).toBe(400);
  });

  it("a client that lost the stream resumes the thread's run on the other gateway with Last-Event-ID: the rest once, in order", async () => {
    const threadId = `th_${randomUUID().slice(0, 8)}`;
    const token = await stack.token("ag-dee");
    const body = {
      threadId,
      runId: "run-resume",
      messages: [{ id: "m1", role: "user", content: "/slow /tools 4 sum 3+3" }],
      tools: [],
      context: [],
    };
    const first = new SseStream(
      `${stack.gateways[0]?.url}/v1/ag-ui`,
      { authorization: `Bearer ${token}` },
      { method: "POST", body: JSON.stringify(body) },
    );
    streams.push(first);
    await first.until((f) => f.filter((x) => x.data).length >= 12, 20_000, "12 AG-UI events");
    first.abort();
    const had = first.frames.filter((f) => f.id !== undefined);
    const lastId = had.at(-1)?.id as string;
    const rest = new SseStream(`${stack.gateways[1]?.url}/v1/ag-ui/${threadId}/stream`, {
      authorization: `Bearer ${token}`,
      "last-event-id": lastId,
    });
    streams.push(rest);
    await rest.ended;
    expect(rest.status).toBe(200);
    const all = [...had, ...rest.frames.filter((f) => f.id !== undefined)];
    const parsed = all.map((f) => JSON.parse(f.data as string) as AgUi);
    for (const e of parsed) expect({ e, ok: EventSchemas.safeParse(e).success }).toEqual({ e, ok: true });
    // Ids strictly increase (seq, then sub-index): nothing twice, nothing skipped that the full run has.
    const key = (id: string) => id.split(".").map(Number) as [number, number?];
    for (let i = 1; i < all.length; i++) {
      const [a, an = -1] = key(all[i - 1]?.id as string);
      const [b, bn = -1] = key(all[i]?.id as string);
      expect(b > a || (b === a && bn > an)).toBe(true);
    }
    // The whole run replayed from the start is exactly what the two pieces make.
    const whole = new SseStream(`${stack.gateways[0]?.url}/v1/ag-ui/${threadId}/stream`, { authorization: `Bearer ${token}` });
    streams.push(whole);
    await whole.ended;
    expect(all.map((f: SseFrame) => [f.id, f.data])).toEqual(whole.frames.filter((f) => f.id !== undefined).map((f) => [f.id, f.data]));
    expect(parsed[0]).toMatchObject({ type: "RUN_STARTED", threadId, runId: "run-resume" });
    expect(parsed.at(-1)).toMatchObject({ type: "RUN_FINISHED", runId: "run-resume" });
    // Past the end: nothing to resume.
    const done = await fetch(`${stack.gateways[1]?.url}/v1/ag-ui/${threadId}/stream`, {
      headers: { authorization: `Bearer ${token}`, "last-event-id": whole.frames.filter((f) => f.id).at(-1)?.id as string },
    });
    expect(done.status).toBe(204);
  });

  it("a cancel ends the run with RUN_FINISHED outcome cancelled; a failure is RUN_ERROR with the agentcast code; a question is CUSTOM and the run waits", async () => {
    const threadId = `th_${randomUUID().slice(0, 8)}`;
    const agent = await agentFor("ag-eve", threadId, 1);
    const events: AgUi[] = [];
    agent.addMessage({ id: randomUUID(), role: "user", content: "/slow /tools 20 sum 1+1" });
    const running = agent.runAgent(
      { runId: "run-cancel" },
      { onEvent: ({ event }: { event: BaseEvent }) => void events.push(event as AgUi) },
    );
    await until("a tool call", () => events.some((e) => e.type === "TOOL_CALL_START"));
    expect((await stack.http(`/v1/tasks/${threadId}/cancel`, { userId: "ag-eve", method: "POST" })).status).toBe(202);
    await running;
    expect(events.at(-1)).toMatchObject({ type: "RUN_FINISHED", runId: "run-cancel", outcome: { type: "cancelled" } });

    const failing = await agentFor("ag-eve", `th_${randomUUID().slice(0, 8)}`);
    failing.addMessage({ id: randomUUID(), role: "user", content: "/fail please" });
    const failed: AgUi[] = [];
    await failing
      .runAgent({ runId: "run-fail" }, { onEvent: ({ event }: { event: BaseEvent }) => void failed.push(event as AgUi) })
      .catch(() => undefined);
    expect(failed.at(-1)).toMatchObject({ type: "RUN_ERROR", code: "agent_failed" });
    expect(EventSchemas.safeParse(failed.at(-1)).success).toBe(true);

    const asking = await agentFor("ag-eve", `th_${randomUUID().slice(0, 8)}`);
    asking.addMessage({ id: randomUUID(), role: "user", content: "/ask what is 6*7" });
    const asked: AgUi[] = [];
    const waiting = asking.runAgent({ runId: "run-ask" }, { onEvent: ({ event }: { event: BaseEvent }) => void asked.push(event as AgUi) });
    await until("the question", () => asked.some((e) => e.type === "CUSTOM" && e.name === "agentcast.question"));
    const question = asked.find((e) => e.name === "agentcast.question")?.value as { questionId: string; prompt: string };
    expect(question.prompt).toContain("?");
    const answer = await stack.http(`/v1/tasks/${asking.threadId}/answer`, {
      userId: "ag-eve",
      body: { questionId: question.questionId, response: "no" },
    });
    expect(answer.status).toBe(202);
    await waiting;
    expect(asked.at(-1)).toMatchObject({ type: "RUN_FINISHED", outcome: { type: "success" } });
  });
});
