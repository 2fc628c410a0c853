// Issue 17, "In": any AG-UI agent runs under agentcast (AGENT=ag-ui, AGENT_URL). The example Python agent
// (standard library only) runs end to end through a real worker and gateways to AG-UI's own HttpAgent;
// a misbehaving agent's events are refused with coded errors and counted, never passed to users.
import { spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { resolve } from "node:path";
import { type BaseEvent, HttpAgent } from "@ag-ui/client";
import { EventSchemas } from "@ag-ui/core/schemas";
import type { EventEnvelope } from "@agentcast/protocol";
import { withTimeout } from "@agentcast/runtime";
import { until } from "@agentcast/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Stack, startStack } from "./fixture.js";
import { scrape, value } from "./metrics.js";

type AgUi = { type: string } & Record<string, unknown>;
const PYTHON_AGENT = resolve(import.meta.dirname, "../../../examples/python-ag-ui-agent/agent.py");

/** Starts the example Python agent on a free port; resolves with its URL and its output lines. */
async function startPythonAgent(): Promise<{ url: string; lines: string[]; stop: () => void }> {
  const child = spawn("python3", [PYTHON_AGENT, "0"], { env: { ...process.env, AGENT_WORD_DELAY_MS: "40" } });
  const lines: string[] = [];
  const listening = new Promise<string>((ok, fail) => {
    child.stdout.on("data", (d: Buffer) => {
      for (const line of d.toString().split("\n").filter(Boolean)) {
        lines.push(line);
        const parsed = JSON.parse(line) as { msg: string; url?: string };
        if (parsed.msg === "listening" && parsed.url) ok(parsed.url);
      }
    });
    child.once("exit", (code) => fail(new Error(`python agent exited ${code}`)));
  });
  const url = await withTimeout(listening, 10_000, "the python agent to listen");
  return { url, lines, stop: () => child.kill("SIGKILL") };
}

/** An AG-UI agent that misbehaves as the message says: events out of order, not JSON, not AG-UI, a 500, a stream cut short. */
async function startBadAgent(): Promise<{ server: Server; url: string }> {
  const server = createServer((req, res) => {
    let body = "";
    req.on("data", (d) => {
      body += d;
    });
    req.on("end", () => {
      const input = JSON.parse(body) as { threadId: string; runId: string; messages: { content: string }[] };
      const text = input.messages.at(-1)?.content ?? "";
      if (text.includes("/http500")) {
        res.writeHead(500).end("boom");
        return;
      }
      res.writeHead(200, { "content-type": "text/event-stream" });
      const send = (e: object) => res.write(`data: ${JSON.stringify(e)}\n\n`);
      send({ type: "RUN_STARTED", threadId: input.threadId, runId: input.runId });
      send({ type: "TEXT_MESSAGE_START", messageId: "m1", role: "assistant" });
      send({ type: "TEXT_MESSAGE_CONTENT", messageId: "m1", delta: "fine so far. " });
      if (text.includes("/order")) send({ type: "TEXT_MESSAGE_CONTENT", messageId: "m-never-opened", delta: "LEAKED" });
      if (text.includes("/notjson")) res.write("data: {LEAKED\n\n");
      if (text.includes("/schema")) send({ type: "TEXT_MESSAGE_CONTENT", messageId: "m1", delta: 42 });
      if (text.includes("/cut")) {
        res.end();
        return;
      }
      send({ type: "TEXT_MESSAGE_END", messageId: "m1" });
      send({ type: "RUN_FINISHED", threadId: input.threadId, runId: input.runId });
      res.end();
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/` };
}

describe("AGENT=ag-ui: a remote AG-UI agent under agentcast", () => {
  let stack: Stack;
  let python: Awaited<ReturnType<typeof startPythonAgent>>;
  let bad: Awaited<ReturnType<typeof startBadAgent>>;
  beforeAll(async () => {
    python = await startPythonAgent();
    bad = await startBadAgent();
    // Two gateways; one worker runs the Python agent. The misbehaving agent gets its own stack below.
    stack = await startStack({ gateways: 2, workers: 1, workerEnv: { AGENT: "ag-ui", AGENT_URL: python.url } });
  });
  afterAll(async () => {
    python?.stop();
    bad?.server.close();
    await stack?.stop();
  });

  const history = async (userId: string, taskId: string) =>
    (await stack.http(`/v1/tasks/${taskId}/events?sinceSeq=0`, { userId })).body.events as EventEnvelope[];

  it("the Python agent's run reaches an AG-UI HttpAgent through the worker and the gateways: reasoning, the tool call, the text once", async () => {
    const threadId = `py_${randomUUID().slice(0, 8)}`;
    const agent = new HttpAgent({
      url: `${stack.gateways[1]?.url}/v1/ag-ui`,
      headers: { authorization: `Bearer ${await stack.token("py-ann")}` },
      threadId,
    });
    agent.addMessage({ id: randomUUID(), role: "user", content: "what is 6*7?" });
    const events: AgUi[] = [];
    await agent.runAgent({ runId: "py-run-1" }, { onEvent: ({ event }: { event: BaseEvent }) => void events.push(event as AgUi) });
    for (const e of events) expect(EventSchemas.safeParse(e).success).toBe(true);
    expect(events[0]).toMatchObject({ type: "RUN_STARTED", threadId, runId: "py-run-1" });
    expect(events.at(-1)).toMatchObject({ type: "RUN_FINISHED", outcome: { type: "success" }, result: { answer: "6*7 = 42." } });
    const text = events
      .filter((e) => e.type === "TEXT_MESSAGE_CONTENT")
      .map((e) => e.delta)
      .join("");
    expect(text).toBe("Python here. 6*7 = 42.");
    // What agentcast stored: the Python agent's stream through the run rules, with seq.
    const stored = await history("py-ann", threadId);
    expect(stored.map((e) => e.type)).toEqual(
      expect.arrayContaining([
        "agent_started",
        "agent_thinking",
        "tool_executing",
        "tool_completed",
        "progress_update",
        "agent_output",
        "agent_completed",
      ]),
    );
    expect(stored.find((e) => e.type === "tool_executing")?.data).toMatchObject({ tool: "calculator", args: { expression: "6*7" } });
    expect(stored.find((e) => e.type === "tool_completed")?.data).toMatchObject({ ok: true, result: 42 });
    const thought = stored
      .filter((e) => e.type === "agent_thinking")
      .map((e) => (e.data as { delta?: string }).delta ?? "")
      .join("");
    expect(thought).toContain("Turn 1: reading the request");
    expect(python.lines.some((l) => l.includes('"run finished"') && l.includes(threadId))).toBe(true);

    // A follow-up carries the conversation so far to the agent (it counts the user turns).
    agent.addMessage({ id: randomUUID(), role: "user", content: "and 2+2?" });
    const second: AgUi[] = [];
    await agent.runAgent({ runId: "py-run-2" }, { onEvent: ({ event }: { event: BaseEvent }) => void second.push(event as AgUi) });
    const thought2 = second
      .filter((e) => e.type === "REASONING_MESSAGE_CONTENT")
      .map((e) => e.delta)
      .join("");
    expect(thought2).toContain("Turn 2:");
  });

  it("an AG-UI interrupt is an agentcast question: answered over HTTP, the agent resumes with it", async () => {
    const { taskId } = (await stack.http("/v1/tasks", { userId: "py-bo", body: { text: "what is 2^5 /ask" } })).body as { taskId: string };
    const watcher = await stack.client("py-bo", 0);
    expect(await watcher.command("subscribe", { taskId, sinceSeq: 0 })).toMatchObject({ ok: true });
    const question = await watcher.waitForEvent("agent_question", taskId, 20_000);
    expect(question.data).toMatchObject({ prompt: "Should I show my working next time?" });
    const { questionId } = question.data as { questionId: string };
    expect(
      (await stack.http(`/v1/tasks/${taskId}/answer`, { userId: "py-bo", body: { questionId, response: "yes please" }, gateway: 1 }))
        .status,
    ).toBe(202);
    const run = await watcher.collectRun(taskId, 20_000);
    expect(run.at(-1)).toMatchObject({ type: "agent_completed", data: { status: "succeeded" } });
    const text = run
      .filter((e) => e.type === "agent_output")
      .map((e) => (e.data as { delta: string }).delta)
      .join("");
    expect(text).toBe('Python here. 2^5 = 32.Thanks. You said "yes please", so that is settled.');
  });

  it("a cancel aborts the request to the agent; the run ends cancelled for every viewer", async () => {
    const { taskId } = (await stack.http("/v1/tasks", { userId: "py-cy", body: { text: "what is 1+1 " + "and more ".repeat(5) } }))
      .body as {
      taskId: string;
    };
    const watcher = await stack.client("py-cy", 1);
    await watcher.command("subscribe", { taskId, sinceSeq: 0 });
    await watcher.waitForEvent("agent_thinking", taskId, 20_000);
    expect((await stack.http(`/v1/tasks/${taskId}/cancel`, { userId: "py-cy", method: "POST" })).status).toBe(202);
    const run = await watcher.collectRun(taskId, 20_000);
    expect(run.at(-1)).toMatchObject({ type: "agent_completed", data: { status: "cancelled" } });
    await until(
      "the Python agent to see its client go",
      () => python.lines.some((l) => l.includes('"client went away"') && l.includes(taskId)),
      10_000,
    );
  });

  it("events out of order, not JSON, not AG-UI, a 500 or a cut stream end the run with a coded error; nothing bad reaches users", async () => {
    const badStack = await startStack({
      gateways: 1,
      workers: 1,
      workerEnv: { AGENT: "ag-ui", AGENT_URL: bad.url, AGENT_MAX_RETRIES: "1" },
    });
    try {
      const cases: [string, string, string | undefined][] = [
        ["/order", "ag_ui_invalid_event", "order"],
        ["/notjson", "ag_ui_invalid_event", "schema"],
        ["/schema", "ag_ui_invalid_event", "schema"],
        ["/http500", "ag_ui_unavailable", undefined],
        ["/cut", "ag_ui_bad_response", undefined],
      ];
      for (const [directive, code] of cases) {
        const { taskId } = (await badStack.http("/v1/tasks", { userId: "bad-dee", body: { text: `hello ${directive}` } })).body as {
          taskId: string;
        };
        const c = await badStack.client("bad-dee");
        await c.command("subscribe", { taskId, sinceSeq: 0 });
        const run = await c.collectRun(taskId, 20_000);
        expect({ directive, end: run.at(-1)?.data }).toMatchObject({ directive, end: { code } });
        expect(JSON.stringify(run)).not.toContain("LEAKED");
        c.disconnect();
      }
      const metrics = await scrape(badStack.workers[0]?.metricsPort ?? 0);
      expect(value(metrics, "agentcast_ag_ui_events_refused_total", { reason: "order" })).toBe(1);
      expect(value(metrics, "agentcast_ag_ui_events_refused_total", { reason: "schema" })).toBe(2);
      expect(value(metrics, "agentcast_ag_ui_errors_total", { code: "ag_ui_invalid_event" })).toBe(3);
      expect(value(metrics, "agentcast_ag_ui_request_duration_seconds_count", { outcome: "retried" })).toBeGreaterThanOrEqual(1);
    } finally {
      await badStack.stop();
    }
  });
});
