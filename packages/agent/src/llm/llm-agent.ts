import { createOpenAICompatible } from "@ai-sdk/openai-compatible";
import { tool as aiTool, isStepCount, type ModelMessage, streamText } from "ai";
import type { Agent, AgentContext, ConversationTurn } from "../context.js";
import type { Tool } from "../define-tool.js";
import { askUserTool, calculatorTool, clockTool } from "../tools/builtin-tools.js";
import { runAiSdkStream } from "./ai-sdk-bridge.js";
import { llmFailure, toLlmFailure } from "./llm-errors.js";
import { providerFetch } from "./provider-fetch.js";

export interface LlmSettings {
  /** LLM_BASE_URL: an OpenAI-compatible API including its `/v1` path. */
  baseUrl: string;
  /** LLM_API_KEY (may be empty for a local server). */
  apiKey?: string;
  /** LLM_MODEL. */
  model: string;
  /** LLM_SYSTEM_PROMPT. */
  systemPrompt?: string;
  /** LLM_MAX_STEPS: model requests per run (each tool round is one). */
  maxSteps: number;
  /** LLM_TIMEOUT_MS: for the provider's answer, then between two chunks of its stream. */
  timeoutMs: number;
  /** LLM_MAX_RETRIES: on 429, 5xx, network errors and timeouts. */
  maxRetries: number;
  /** The tools the model may call; default: calculator, clock, ask_user. */
  // biome-ignore lint/suspicious/noExplicitAny: tools of any input and result types
  tools?: readonly Tool<any, any>[];
}

/** What the LLM agent reports for metrics (the worker counts them). */
export interface LlmObserver {
  /** One HTTP attempt to the provider: seconds to its answer (or failure), and how it ended. */
  request(seconds: number, outcome: "ok" | "retried" | "failed"): void;
  tokens(kind: "input" | "output", count: number): void;
  /** A run ended with this LLM error code. */
  error(code: string): void;
}

/** Earlier turns as chat messages: each run's input, then its answer (when it streamed one). */
export function conversationMessages(turns: readonly ConversationTurn[]): ModelMessage[] {
  const out: ModelMessage[] = [];
  for (const t of turns) {
    out.push({ role: "user", content: t.input });
    if (t.answer) out.push({ role: "assistant", content: t.answer });
  }
  return out;
}

/**
 * The LLM agent (AGENT=llm): any OpenAI-compatible chat-completions API through the AI SDK
 * (`@ai-sdk/openai-compatible`), streaming the answer, reasoning and tool calls as agentcast events and
 * looping tool results back to the model until it answers or LLM_MAX_STEPS is reached.
 */
export function createLlmAgent(settings: LlmSettings, observer?: LlmObserver): Agent {
  const tools = (settings.tools ?? [calculatorTool, clockTool, askUserTool]) as readonly Tool[];
  const provider = createOpenAICompatible({
    name: "llm",
    baseURL: settings.baseUrl.replace(/\/+$/, ""),
    ...(settings.apiKey ? { apiKey: settings.apiKey } : {}),
    includeUsage: true,
    fetch: providerFetch({
      maxRetries: settings.maxRetries,
      timeoutMs: settings.timeoutMs,
      onAttempt: (a) =>
        observer?.request(a.seconds, typeof a.status === "number" && a.status < 400 ? "ok" : a.willRetry ? "retried" : "failed"),
    }),
  });
  const model = provider.chatModel(settings.model);
  return {
    name: "llm",
    tools: tools.map((t) => t.name),
    async run(ctx: AgentContext) {
      // A tool runs only once the bridge has published its tool_executing (its events come after it).
      const opened = new Map<string, PromiseWithResolvers<void>>();
      const gate = (id: string) => {
        let g = opened.get(id);
        if (!g) {
          g = Promise.withResolvers<void>();
          opened.set(id, g);
        }
        return g;
      };
      const aiTools = Object.fromEntries(
        tools.map((t) => [
          t.name,
          aiTool({
            description: t.description,
            inputSchema: t.input,
            execute: async (input: unknown, { toolCallId }: { toolCallId: string }) => {
              await gate(toolCallId).promise;
              return t.run(input, ctx);
            },
          }),
        ]),
      );
      const result = streamText({
        model,
        ...(settings.systemPrompt ? { instructions: settings.systemPrompt } : {}),
        messages: [...conversationMessages(ctx.conversation), { role: "user", content: ctx.input }],
        tools: aiTools,
        stopWhen: isStepCount(settings.maxSteps),
        abortSignal: ctx.signal,
        maxRetries: 0, // providerFetch retries (Retry-After, jitter, LLM_MAX_RETRIES)
        onError: () => {}, // reported through the stream's error part
      });
      let out: Awaited<ReturnType<typeof runAiSdkStream>>;
      try {
        out = await runAiSdkStream(ctx, result, { onToolCall: (id) => gate(id).resolve() });
      } catch (err) {
        if (ctx.signal.aborted) throw err;
        const failure = toLlmFailure(err);
        observer?.error(failure.code);
        throw failure;
      }
      observer?.tokens("input", out.usage.inputTokens);
      observer?.tokens("output", out.usage.outputTokens);
      if (out.finishReason === "tool-calls") {
        observer?.error("llm_max_steps");
        throw llmFailure("llm_max_steps", `the model still wanted tools after ${settings.maxSteps} steps (LLM_MAX_STEPS)`);
      }
      return { result: { answer: out.text, model: settings.model, usage: out.usage } };
    },
  };
}
