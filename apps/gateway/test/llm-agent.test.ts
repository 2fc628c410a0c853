// The LLM agent (AGENT=llm, issue 16) against an OpenAI-compatible provider of our own (testkit's fake
// provider: chat-completions SSE on loopback): real worker, real gateways, real Redis, real client.

import { type EventEnvelope, validateRunEvents } from "@agentcast/protocol";
import {
  type ChatRequest,
  type FakeLlm,
  type FakeReply,
  finishChunk,
  reasoningChunks,
  startFakeLlm,
  textChunks,
  toolCallChunks,
  usageChunk,
} from "@agentcast/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Stack, startStack } from "./fixture.js";

/** What the fake provider answers: per test, keyed by a word in the user's first message. */
let script: (req: ChatRequest, n: number) => FakeReply = () => ({ status: 500 });
const lastUser = (req: ChatRequest) => String([...req.messages].reverse().find((m) => m.role === "user")?.content ?? "");
const toolResults = (req: ChatRequest) => req.messages.filter((m) => m.role === "tool");

const text = (run: EventEnvelope[], type: "agent_output" | "agent_thinking" = "agent_output") =>
  run.map((e) => (e.type === type && "delta" in e.data ? e.data.delta : "")).join("");

describe("LLM agent", () => {
  let llm: FakeLlm;
  let stack: Stack;
  beforeAll(async () => {
    llm = await startFakeLlm((req, n) => script(req, n));
    stack = await startStack({
      gateways: 2,
      workers: 1,
      workerEnv: { LLM_BASE_URL: llm.url, LLM_MODEL: "fake-model", LLM_API_KEY: "sk-test", LLM_TIMEOUT_MS: "2000", LLM_MAX_STEPS: "3" },
    });
  });
  afterAll(async () => {
    await stack?.stop();
    await llm?.close();
  });

  it("a two-tool answer (parallel calls, arguments split across chunks) streams to the client in order, with reasoning and usage", async () => {
    script = (req) => {
      if (toolResults(req).length === 0)
        return {
          stream: [
            ...reasoningChunks("I need the sum and the time."),
            ...toolCallChunks(
              [
                { id: "call_a", name: "calculator", arguments: '{"expression":"6*7"}' },
                { id: "call_b", name: "clock", arguments: '{"timezone":"UTC"}' },
              ],
              4,
              true,
            ),
            finishChunk("tool_calls"),
            usageChunk(20, 10),
          ],
        };
      return { stream: [...textChunks("6*7 is 42, and it is late."), finishChunk("stop"), usageChunk(35, 8)] };
    };
    const a = await stack.client("alice", 0);
    const b = await stack.client("alice", 1);
    const ack = await a.command("user_message", { text: "what is 6*7, and what time is it?" });
    if (!ack.ok) throw new Error(JSON.stringify(ack));
    await b.command("subscribe", { taskId: ack.taskId, sinceSeq: 0 });
    const run = await a.collectRun(ack.taskId);
    expect(validateRunEvents(run)).toEqual([]);
    const kinds = run.map((e) => e.type).filter((t, i, all) => t !== all[i - 1]);
    expect(kinds).toEqual(["agent_started", "agent_thinking", "tool_executing", "tool_completed", "agent_output", "agent_completed"]);
    expect(text(run, "agent_thinking")).toBe("I need the sum and the time.");
    const tools = run.filter((e) => e.type === "tool_executing" || e.type === "tool_completed").map((e) => e.data);
    expect(tools[0]).toMatchObject({ tool: "calculator", args: { expression: "6*7" } });
    expect(tools[1]).toMatchObject({ tool: "clock", args: { timezone: "UTC" } });
    expect(tools.slice(2)).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ tool: "calculator", ok: true, result: 42 }),
        expect.objectContaining({ tool: "clock", ok: true, result: expect.stringMatching(/^\d{4}-\d\d-\d\dT/) }),
      ]),
    );
    expect(text(run)).toBe("6*7 is 42, and it is late.");
    expect(run.at(-1)).toMatchObject({
      type: "agent_completed",
      data: {
        status: "succeeded",
        result: { answer: "6*7 is 42, and it is late.", model: "fake-model", usage: { inputTokens: 55, outputTokens: 18 } },
      },
    });
    // The provider got what an OpenAI-compatible client sends: the key, the tools' JSON Schemas, usage asked for.
    const first = llm.requests.at(-2);
    expect(first?.headers.authorization).toBe("Bearer sk-test");
    expect(first?.body).toMatchObject({ model: "fake-model", stream: true, stream_options: { include_usage: true } });
    expect(first?.body.tools?.map((t) => t.function.name)).toEqual(["calculator", "clock", "ask_user"]);
    // The second request carried both results back to the model.
    expect(toolResults(llm.requests.at(-1)?.body as ChatRequest).map((m) => m.tool_call_id)).toEqual(["call_a", "call_b"]);
    // The other gateway's client saw the same text.
    const seen = await b.collectRun(ack.taskId);
    expect(text(seen)).toBe(text(run));
  });

  it("ask_user: the model's question reaches the user, the answer goes back to the model; a follow-up sends the earlier turns", async () => {
    script = (req) => {
      const results = toolResults(req);
      if (lastUser(req).startsWith("and now?")) return { stream: [...textChunks("Still blue."), finishChunk("stop")] };
      if (results.length === 0)
        return {
          stream: [
            ...toolCallChunks([{ id: "q1", name: "ask_user", arguments: '{"question":"Which colour?"}' }]),
            finishChunk("tool_calls"),
          ],
        };
      return { stream: [...textChunks(`You chose ${String(results[0]?.content)}.`), finishChunk("stop")] };
    };
    const a = await stack.client("bob", 0);
    const ack = await a.command("user_message", { text: "pick a colour for me" });
    if (!ack.ok) throw new Error(JSON.stringify(ack));
    const q = await a.waitForEvent("agent_question", ack.taskId);
    if (q.type !== "agent_question") throw new Error("unreachable");
    expect(q.data.prompt).toBe("Which colour?");
    const other = await stack.client("bob", 1);
    await other.command("user_response", { taskId: ack.taskId, questionId: q.data.questionId, response: "blue" });
    const run = await a.collectRun(ack.taskId);
    expect(validateRunEvents(run)).toEqual([]);
    expect(text(run)).toContain("blue");
    expect(run.find((e) => e.type === "tool_completed")?.data).toMatchObject({ tool: "ask_user", ok: true, result: "blue" });

    const next = await a.command("user_message", { text: "and now?", taskId: ack.taskId });
    if (!next.ok) throw new Error(JSON.stringify(next));
    const run2 = await a.collectRun(ack.taskId, { runId: next.runId });
    expect(text(run2)).toBe("Still blue.");
    // The provider received the earlier turn as user/assistant messages before the new one.
    const sent = llm.requests.at(-1)?.body.messages.map((m) => [m.role, m.content]);
    expect(sent).toEqual([
      ["user", "pick a colour for me"],
      ["assistant", text(run)],
      ["user", "and now?"],
    ]);
  });

  /** Sends `message` on a new task and returns its run once ended. */
  async function runOf(user: string, message: string) {
    const a = await stack.client(user, 0);
    const ack = await a.command("user_message", { text: message });
    if (!ack.ok) throw new Error(JSON.stringify(ack));
    return { a, ack, run: await a.collectRun(ack.taskId, 30_000) };
  }

  it("a bad argument from the model is a failed tool call the model sees, not a crash", async () => {
    script = (req) => {
      const results = toolResults(req);
      if (results.length === 0)
        return { stream: [...toolCallChunks([{ id: "c1", name: "calculator", arguments: '{"expr":1}' }]), finishChunk("tool_calls")] };
      return { stream: [...textChunks(`The tool said: ${String(results[0]?.content).slice(0, 40)}`), finishChunk("stop")] };
    };
    const { run } = await runOf("carol", "compute something");
    expect(validateRunEvents(run)).toEqual([]);
    expect(run.find((e) => e.type === "tool_completed")?.data).toMatchObject({ tool: "calculator", ok: false });
    expect(run.at(-1)).toMatchObject({ type: "agent_completed", data: { status: "succeeded" } });
    expect(text(run)).toMatch(/^The tool said: /);
  });

  it("429 with Retry-After, then 500, then success: retried, one answer", async () => {
    const started = llm.requests.length;
    script = (_req, n) => {
      if (n === started) return { status: 429, headers: { "retry-after": "1" } };
      if (n === started + 1) return { status: 500 };
      return { stream: [...textChunks("third time lucky"), finishChunk("stop")] };
    };
    const t0 = Date.now();
    const { run } = await runOf("dave", "hello");
    expect(text(run)).toBe("third time lucky");
    expect(llm.requests.length - started).toBe(3);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(1_000); // the Retry-After second was waited
  });

  it("a provider that keeps failing: after LLM_MAX_RETRIES, a coded retryable agent_error (llm_unavailable / llm_rate_limited)", async () => {
    script = () => ({ status: 503 });
    const started = llm.requests.length;
    const { run } = await runOf("erin", "hello");
    expect(run.at(-1)).toMatchObject({ type: "agent_error", data: { code: "llm_unavailable", retryable: true } });
    expect(llm.requests.length - started).toBe(4); // 1 + LLM_MAX_RETRIES (3)
    script = () => ({ status: 429, headers: { "retry-after": "0" } });
    const limited = await runOf("erin", "again");
    expect(limited.run.at(-1)).toMatchObject({ type: "agent_error", data: { code: "llm_rate_limited", retryable: true } });
    script = () => ({ status: 401, body: { error: { message: "bad key" } } });
    const rejected = await runOf("erin", "once more");
    expect(rejected.run.at(-1)).toMatchObject({ type: "agent_error", data: { code: "llm_rejected", retryable: false } });
  });

  it("garbage, a stream cut mid-way, and a provider that never answers end the run with a coded error, never a hang", async () => {
    script = () => ({ garbage: "data: {not json\n\ndata: [DONE]\n\n" });
    const garbage = await runOf("frank", "hello");
    expect(garbage.run.at(-1)).toMatchObject({ type: "agent_error", data: { code: "llm_bad_response" } });

    script = () => ({
      stream: [...textChunks("half an answ"), ...textChunks("er and more"), finishChunk("stop")],
      cutAfter: 3,
      delayMs: 20,
    });
    const cut = await runOf("frank", "hello again");
    expect(cut.run.at(-1)).toMatchObject({ type: "agent_error", data: { code: "llm_bad_response" } });
    expect(text(cut.run)).toBe("half an answ"); // what arrived before the cut was streamed, nothing invented

    script = () => ({ hang: true });
    const started = llm.requests.length;
    const t0 = Date.now();
    const hung = await runOf("frank", "anyone there?");
    expect(hung.run.at(-1)).toMatchObject({ type: "agent_error", data: { code: "llm_timeout", retryable: true } });
    expect(llm.requests.length - started).toBe(4); // each attempt timed out after LLM_TIMEOUT_MS (2 s) and was retried
    expect(Date.now() - t0).toBeLessThan(30_000);
  });

  it("a slow stream (3 s in all, 300 ms between chunks) completes: LLM_TIMEOUT_MS (2 s) bounds each gap, not the whole answer", async () => {
    script = () => ({ stream: [...textChunks("slow but steady wins", 2), finishChunk("stop")], delayMs: 300 });
    const t0 = Date.now();
    const { run } = await runOf("ivan", "take your time");
    expect(Date.now() - t0).toBeGreaterThan(2_500);
    expect(text(run)).toBe("slow but steady wins");
    expect(run.at(-1)).toMatchObject({ type: "agent_completed", data: { status: "succeeded" } });
  });

  it("LLM_MAX_STEPS: a model that keeps calling tools ends the run with llm_max_steps", async () => {
    let k = 0;
    script = () => ({ stream: [...toolCallChunks([{ id: `c${++k}`, name: "clock", arguments: "{}" }]), finishChunk("tool_calls")] });
    const started = llm.requests.length;
    const { run } = await runOf("gina", "loop forever");
    expect(validateRunEvents(run)).toEqual([]);
    expect(run.at(-1)).toMatchObject({ type: "agent_error", data: { code: "llm_max_steps", retryable: false } });
    expect(llm.requests.length - started).toBe(3);
  });

  it("cancel aborts the provider request: the fake provider sees its connection closed within a second", async () => {
    script = () => ({ stream: [...textChunks("x".repeat(400), 2), finishChunk("stop")], delayMs: 50 });
    const a = await stack.client("hank", 0);
    const ack = await a.command("user_message", { text: "write a lot" });
    if (!ack.ok) throw new Error(JSON.stringify(ack));
    await a.waitForEvent("agent_output", ack.taskId);
    const aborted = llm.nextAbort();
    const t0 = Date.now();
    await a.command("cancel", { taskId: ack.taskId });
    const req = await aborted;
    expect(Date.now() - t0).toBeLessThan(1_000);
    expect(req.aborted).toBe(true);
    const run = await a.collectRun(ack.taskId);
    expect(run.at(-1)).toMatchObject({ type: "agent_completed", data: { status: "cancelled" } });
    expect(validateRunEvents(run)).toEqual([]);
  });

  it("metrics: provider tokens by kind, request latency by outcome, errors by code", async () => {
    const res = await fetch(`http://127.0.0.1:${stack.workers[0]?.metricsPort}/metrics`);
    const text = await res.text();
    const sample = (name: string, labels: string) =>
      Number(
        text
          .split("\n")
          .find((l) => l.startsWith(`${name}{`) && l.includes(labels))
          ?.split(" ")
          .at(-1) ?? Number.NaN,
      );
    // The first test alone reported 55 input and 18 output tokens.
    expect(sample("agentcast_llm_tokens_total", 'kind="input"')).toBeGreaterThanOrEqual(55);
    expect(sample("agentcast_llm_tokens_total", 'kind="output"')).toBeGreaterThanOrEqual(18);
    expect(sample("agentcast_llm_errors_total", 'code="llm_unavailable"')).toBe(1);
    expect(sample("agentcast_llm_errors_total", 'code="llm_max_steps"')).toBe(1);
    expect(sample("agentcast_llm_request_duration_seconds_count", 'outcome="retried"')).toBeGreaterThanOrEqual(5);
    expect(sample("agentcast_llm_request_duration_seconds_count", 'outcome="ok"')).toBeGreaterThanOrEqual(8);
  });
});
