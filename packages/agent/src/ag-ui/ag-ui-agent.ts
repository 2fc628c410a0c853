import { EventSchemas } from "@ag-ui/core/schemas";
import type { Agent, AgentContext, AgentResult } from "../context.js";
import { AgentFailure } from "../context.js";
import { LlmTimeoutError, providerFetch } from "../llm/provider-fetch.js";
import { type AgUiErrorCode, agUiFailure } from "./ag-ui-errors.js";
import { type AgUiEventFields, AgUiSequence } from "./ag-ui-sequence.js";
import { sseData } from "./sse-data.js";

export interface AgUiSettings {
  /** AGENT_URL: the remote agent's AG-UI endpoint (it takes a POSTed RunAgentInput and answers with an event stream). */
  url: string;
  /** AGENT_AUTH_TOKEN: sent as `Authorization: Bearer` to the agent, when set. */
  authToken?: string;
  /** AGENT_TIMEOUT_MS: for the answer's headers, and then between two chunks of its stream. */
  timeoutMs: number;
  /** AGENT_MAX_RETRIES: attempts after the first, on 429, 5xx, a network error or a timeout before the answer. */
  maxRetries: number;
  /** Interrupts (questions) one run may raise before it fails. Default 20. */
  maxInterrupts?: number;
}

export interface AgUiObserver {
  /** One HTTP attempt to the agent: seconds to its answer (or failure), and how it ended. */
  request(seconds: number, outcome: "ok" | "retried" | "failed"): void;
  /** An event from the agent was refused: not valid AG-UI (`schema`), or out of order (`order`). */
  refused(reason: "schema" | "order"): void;
  /** A run ended with this AG-UI error code. */
  error(code: AgUiErrorCode): void;
}

type Parsed = AgUiEventFields & Record<string, unknown>;
interface Interrupt {
  id: string;
  reason: string;
  message?: string;
}
type Outcome = { kind: "finished"; result: unknown } | { kind: "interrupted"; interrupts: Interrupt[] };

/**
 * Any AG-UI agent (LangGraph, CrewAI, Pydantic AI, a Python script…) run under agentcast: the worker POSTs
 * a `RunAgentInput` — the task id as thread, the task's conversation so far and the new message — and turns
 * the agent's event stream into agentcast events through the run rules, so seq, history, isolation, cancel
 * (it aborts the request), the stall watchdog and resume all hold. Each event is checked against
 * `@ag-ui/core`'s schemas and AG-UI's order first: a bad one ends the run with `ag_ui_invalid_event` and
 * never reaches a user. An interrupt (`RUN_FINISHED` with outcome `interrupt`) becomes a question; the
 * answer resumes the agent with a new request.
 */
export function createAgUiAgent(settings: AgUiSettings, observer?: AgUiObserver): Agent {
  const post = providerFetch({
    maxRetries: settings.maxRetries,
    timeoutMs: settings.timeoutMs,
    onAttempt: (a) =>
      observer?.request(a.seconds, typeof a.status === "number" && a.status < 400 ? "ok" : a.willRetry ? "retried" : "failed"),
  });
  const headers = {
    "content-type": "application/json",
    accept: "text/event-stream",
    ...(settings.authToken ? { authorization: `Bearer ${settings.authToken}` } : {}),
  };
  return {
    name: "ag-ui",
    async run(ctx) {
      try {
        return await runRemote(ctx, settings, observer, (input) =>
          post(settings.url, { method: "POST", headers, body: JSON.stringify(input), signal: ctx.signal }),
        );
      } catch (err) {
        if (ctx.signal.aborted) throw ctx.signal.reason ?? err; // cancelled (or stalled): the run's own ending, not the agent's
        const failure = toAgUiFailure(err);
        observer?.error(failure.code as AgUiErrorCode);
        throw failure;
      }
    },
  };
}

async function runRemote(
  ctx: AgentContext,
  settings: AgUiSettings,
  observer: AgUiObserver | undefined,
  send: (input: unknown) => Promise<Response>,
): Promise<AgentResult> {
  const messages = [
    ...ctx.conversation.flatMap((t) => [
      { id: `${t.runId}-user`, role: "user", content: t.input },
      ...(t.answer ? [{ id: `${t.runId}-assistant`, role: "assistant", content: t.answer }] : []),
    ]),
    { id: `${ctx.runId}-user`, role: "user", content: ctx.input },
  ];
  let resume: { interruptId: string; status: "resolved"; payload: string }[] | undefined;
  const maxInterrupts = settings.maxInterrupts ?? 20;
  for (let round = 0; round <= maxInterrupts; round++) {
    const input = {
      threadId: ctx.taskId,
      runId: round === 0 ? ctx.runId : `${ctx.runId}.${round}`,
      messages,
      tools: [],
      context: [],
      state: {},
      forwardedProps: {},
      ...(resume ? { resume } : {}),
    };
    const res = await send(input);
    if (!res.ok) {
      await res.body?.cancel().catch(() => undefined);
      const code: AgUiErrorCode = res.status === 429 || res.status >= 500 ? "ag_ui_unavailable" : "ag_ui_rejected";
      throw agUiFailure(code, `the agent answered HTTP ${res.status}`);
    }
    if (!res.body || !/text\/event-stream/i.test(res.headers.get("content-type") ?? "")) {
      await res.body?.cancel().catch(() => undefined);
      throw agUiFailure(
        "ag_ui_bad_response",
        `the agent answered ${res.headers.get("content-type") ?? "no content type"}, not an event stream`,
      );
    }
    const outcome = await consume(ctx, res.body, observer);
    if (outcome.kind === "finished") return outcome.result === undefined ? {} : { result: outcome.result };
    resume = [];
    for (const it of outcome.interrupts)
      resume.push({ interruptId: it.id, status: "resolved", payload: await ctx.ask(it.message ?? it.reason) });
  }
  throw agUiFailure("ag_ui_bad_response", `the agent interrupted its run more than ${maxInterrupts} times`);
}

/** Reads one response's events into the run; resolves with how the agent's run ended. */
async function consume(ctx: AgentContext, body: ReadableStream<Uint8Array>, observer: AgUiObserver | undefined): Promise<Outcome> {
  const order = new AgUiSequence();
  const calls = new Map<string, { name: string; args: string; result?: PromiseWithResolvers<unknown>; settled?: Promise<unknown> }>();
  let chunkCall: string | undefined;
  let outcome: Outcome | undefined;
  const refuse = (reason: "schema" | "order", why: string): never => {
    observer?.refused(reason);
    throw agUiFailure("ag_ui_invalid_event", `the agent sent an invalid event: ${why}`);
  };
  const apply = async (e: Parsed): Promise<void> => {
    const why = order.check(e);
    if (why !== null) refuse("order", why);
    const id = e.toolCallId ?? "";
    switch (e.type) {
      case "TEXT_MESSAGE_CONTENT":
      case "TEXT_MESSAGE_CHUNK":
        if (typeof e.delta === "string" && e.delta !== "") await ctx.output(e.delta);
        return;
      case "REASONING_MESSAGE_CONTENT":
      case "REASONING_MESSAGE_CHUNK":
        if (typeof e.delta === "string" && e.delta !== "") await ctx.thinkingDelta(e.delta);
        return;
      case "TOOL_CALL_START":
        calls.set(id, { name: String(e.toolCallName), args: "" });
        return;
      case "TOOL_CALL_ARGS": {
        const call = calls.get(id);
        if (call) call.args += String(e.delta ?? "");
        return;
      }
      case "TOOL_CALL_END": {
        // tool_executing now; tool_completed when the agent's result arrives (the call runs on the agent's side).
        const call = calls.get(id);
        if (!call) return;
        call.result = Promise.withResolvers<unknown>();
        const pending = call.result.promise;
        call.settled = ctx.tool(call.name, argsOf(call.args), () => pending).catch(() => undefined);
        return;
      }
      case "TOOL_CALL_RESULT": {
        const call = calls.get(id);
        call?.result?.resolve(resultOf(e.content));
        await call?.settled; // tool_completed is published before anything the agent sent after the result
        return;
      }
      case "CUSTOM":
        if (e.name === "agentcast.progress") {
          const v = e.value as { percent?: unknown; message?: unknown } | undefined;
          if (typeof v?.percent === "number" && v.percent >= 0 && v.percent <= 100) await ctx.progress(v.percent, String(v.message ?? ""));
        }
        return;
      case "RUN_ERROR":
        throw agUiFailure("ag_ui_run_error", `${String(e.message)}${typeof e.code === "string" ? ` (${e.code})` : ""}`);
      case "RUN_FINISHED": {
        const o = e.outcome as { type?: string; interrupts?: Interrupt[] } | undefined;
        if (o?.type === "cancelled") throw agUiFailure("ag_ui_run_error", "the agent ended its run as cancelled");
        outcome =
          o?.type === "interrupt" && o.interrupts
            ? { kind: "interrupted", interrupts: o.interrupts }
            : { kind: "finished", result: e.result };
        return;
      }
      default:
        return; // RUN_STARTED, message starts and ends, steps, state, activity: nothing a viewer needs from them
    }
  };
  try {
    for await (const data of sseData(body)) {
      let json: unknown;
      try {
        json = JSON.parse(data);
      } catch {
        refuse("schema", "an event that is not JSON");
      }
      const parsed = EventSchemas.safeParse(json);
      if (!parsed.success)
        refuse(
          "schema",
          parsed.error.issues
            .slice(0, 2)
            .map((i) => `${i.path.join(".") || "event"}: ${i.message}`)
            .join("; "),
        );
      const e = parsed.data as Parsed;
      // TOOL_CALL_CHUNK is shorthand for start/args/end: expanded, the call closes at the next other event.
      if (e.type === "TOOL_CALL_CHUNK") {
        const id = typeof e.toolCallId === "string" ? e.toolCallId : chunkCall;
        if (id === undefined) refuse("order", "TOOL_CALL_CHUNK without a toolCallId");
        if (id !== chunkCall) {
          if (chunkCall !== undefined) await apply({ type: "TOOL_CALL_END", toolCallId: chunkCall });
          if (typeof e.toolCallName !== "string") refuse("order", "the first TOOL_CALL_CHUNK of a call has no toolCallName");
          await apply({ type: "TOOL_CALL_START", toolCallId: id, toolCallName: e.toolCallName });
          chunkCall = id;
        }
        if (typeof e.delta === "string") await apply({ type: "TOOL_CALL_ARGS", toolCallId: id, delta: e.delta });
        continue;
      }
      if (chunkCall !== undefined) {
        await apply({ type: "TOOL_CALL_END", toolCallId: chunkCall });
        chunkCall = undefined;
      }
      await apply(e);
      if (outcome) break;
    }
  } finally {
    // Calls the agent never answered (or a run that broke off) end as failed tool calls, before the run's end.
    for (const call of calls.values()) call.result?.reject(new Error("the agent sent no result for this tool call"));
    await Promise.all([...calls.values()].map((c) => c.settled));
  }
  if (!outcome) throw agUiFailure("ag_ui_bad_response", "the agent's stream ended before RUN_FINISHED");
  return outcome;
}

/** Tool arguments as the run rules want them (an object): JSON args, or the raw text under `input`. */
function argsOf(text: string): Record<string, unknown> {
  try {
    const value: unknown = JSON.parse(text || "{}");
    return value && typeof value === "object" && !Array.isArray(value) ? (value as Record<string, unknown>) : { input: value };
  } catch {
    return { input: text };
  }
}

/** A tool result's content: JSON when it parses, else the text (content parts: their text joined). */
function resultOf(content: unknown): unknown {
  const text =
    typeof content === "string" ? content : Array.isArray(content) ? content.map((p) => (p as { text?: string }).text ?? "").join("") : "";
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** Any failure of the exchange as a coded AgentFailure (the run's `agent_error`). */
function toAgUiFailure(err: unknown): AgentFailure {
  if (err instanceof AgentFailure) return err;
  for (let e: unknown = err, depth = 0; e && depth < 8; e = (e as { cause?: unknown }).cause, depth++)
    if (e instanceof LlmTimeoutError) return agUiFailure("ag_ui_timeout", `the agent ${e.message.replace(/^the provider /, "")}`, err);
  const message = err instanceof Error ? err.message : String(err);
  if (/fetch failed|ECONNREFUSED|ECONNRESET|ENOTFOUND|EHOSTUNREACH/i.test(message) && !/terminated/i.test(message))
    return agUiFailure("ag_ui_unavailable", `the agent could not be reached: ${message}`, err);
  return agUiFailure("ag_ui_bad_response", `the agent's stream failed: ${message}`, err);
}
