import type { AgentContext } from "../context.js";

/** The parts of an AI SDK `streamText` result's `stream` the bridge acts on (the rest are skipped). */
export type BridgedPart =
  | { type: "text-delta"; text: string }
  | { type: "reasoning-delta"; text: string }
  | { type: "tool-call"; toolCallId: string; toolName: string; input: unknown }
  | { type: "tool-result"; toolCallId: string; output: unknown }
  | { type: "tool-error"; toolCallId: string; error: unknown }
  | { type: "finish"; finishReason: string; totalUsage?: { inputTokens?: number | undefined; outputTokens?: number | undefined } }
  | { type: "error"; error: unknown }
  | { type: "abort" }
  | { type: string };

export interface BridgeOptions {
  /** Called once the bridge has opened the agentcast tool call for a model's tool call (its tool_executing is queued). */
  onToolCall?: (toolCallId: string) => void;
}

export interface BridgedRun {
  /** Everything the model streamed as text, over every step. */
  text: string;
  finishReason: string;
  usage: { inputTokens: number; outputTokens: number };
}

/** An error the model stream reported (`error` part), thrown as is so the caller can tell what failed. */
export class ModelStreamError extends Error {
  constructor(readonly error: unknown) {
    super(error instanceof Error ? error.message : String(error), { cause: error });
    this.name = "ModelStreamError";
  }
}

const asArgs = (input: unknown): Record<string, unknown> =>
  typeof input === "object" && input !== null && !Array.isArray(input) ? (input as Record<string, unknown>) : { input };
const messageOf = (error: unknown) => (error instanceof Error ? error.message : typeof error === "string" ? error : JSON.stringify(error));

interface OpenCall {
  /** Settled with the tool's result or error when the stream gives it. */
  outcome: PromiseWithResolvers<unknown>;
  /** The agentcast tool call: resolves once its tool_completed is published. */
  done: Promise<unknown>;
}

/**
 * Runs an AI SDK `streamText` result as agentcast events: text deltas → `agent_output`, reasoning →
 * `agent_thinking { delta }`, each tool call → `tool_executing`, its result or error → `tool_completed`
 * (in the order the stream gives them, parallel calls too), an `error` part → thrown (ModelStreamError),
 * `finish` → the run's usage. Pass the run's `ctx.signal` as the `streamText` call's `abortSignal`, so a
 * cancel stops the provider request.
 *
 *   const result = streamText({ model, prompt: ctx.input, tools, abortSignal: ctx.signal });
 *   const { text, usage } = await runAiSdkStream(ctx, result);
 */
export async function runAiSdkStream(
  ctx: AgentContext,
  result: { stream: AsyncIterable<unknown> } | { fullStream: AsyncIterable<unknown> },
  opts: BridgeOptions = {},
): Promise<BridgedRun> {
  const stream = "stream" in result ? result.stream : result.fullStream;
  const open = new Map<string, OpenCall>();
  let text = "";
  let finishReason = "unknown";
  const usage = { inputTokens: 0, outputTokens: 0 };
  try {
    for await (const raw of stream) {
      const part = raw as BridgedPart;
      switch (part.type) {
        case "text-delta": {
          const p = part as { text: string };
          text += p.text;
          if (p.text) await ctx.output(p.text);
          break;
        }
        case "reasoning-delta": {
          const p = part as { text: string };
          if (p.text) await ctx.thinkingDelta(p.text);
          break;
        }
        case "tool-call": {
          const p = part as { toolCallId: string; toolName: string; input: unknown };
          const outcome = Promise.withResolvers<unknown>();
          // Settled maybe before ctx.tool awaits it (its tool_executing is still being published): handled.
          outcome.promise.catch(() => undefined);
          // tool_executing now, tool_completed when the stream gives the result (through the run's queue).
          const done = ctx.tool(p.toolName, asArgs(p.input), () => outcome.promise);
          done.catch(() => undefined);
          open.set(p.toolCallId, { outcome, done });
          opts.onToolCall?.(p.toolCallId);
          break;
        }
        case "tool-result":
        case "tool-error": {
          const p = part as { toolCallId: string; output?: unknown; error?: unknown };
          const call = open.get(p.toolCallId);
          if (!call) break;
          open.delete(p.toolCallId);
          if (part.type === "tool-result") call.outcome.resolve(p.output);
          else call.outcome.reject(new Error(messageOf(p.error)));
          // Published before anything the stream gives next.
          await call.done.catch(() => undefined);
          break;
        }
        case "finish": {
          const p = part as { finishReason: string; totalUsage?: { inputTokens?: number; outputTokens?: number } };
          finishReason = p.finishReason;
          usage.inputTokens = p.totalUsage?.inputTokens ?? 0;
          usage.outputTokens = p.totalUsage?.outputTokens ?? 0;
          break;
        }
        case "error":
          throw new ModelStreamError((part as { error: unknown }).error);
        case "abort":
          throw ctx.signal.aborted ? ctx.signal.reason : new ModelStreamError("the model stream was aborted");
      }
    }
  } finally {
    // A tool call the stream never answered: closed as failed, not left open.
    for (const call of open.values()) call.outcome.reject(new Error("the model stream ended before this tool call's result"));
  }
  return { text, finishReason, usage };
}
