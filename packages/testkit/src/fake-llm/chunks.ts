/**
 * Chat-completions stream chunks (`chat.completion.chunk`) as OpenAI-compatible providers send them, for
 * the fake provider's scripts: text split into pieces, tool calls whose arguments arrive in several
 * chunks, reasoning (`reasoning_content`, as vLLM, DeepSeek and LM Studio send it), the finish reason and
 * the usage chunk that `stream_options.include_usage` asks for.
 */
export interface ChatChunk {
  id: string;
  object: "chat.completion.chunk";
  created: number;
  model: string;
  choices: { index: number; delta: Record<string, unknown>; finish_reason: string | null }[];
  usage?: { prompt_tokens: number; completion_tokens: number; total_tokens: number };
}

export const FAKE_MODEL = "fake-model";

const chunk = (delta: Record<string, unknown>, finish: string | null = null): ChatChunk => ({
  id: "chatcmpl-fake",
  object: "chat.completion.chunk",
  created: 0,
  model: FAKE_MODEL,
  choices: [{ index: 0, delta, finish_reason: finish }],
});

/** `text` as content deltas of at most `size` characters (the first carries the role). */
export function textChunks(text: string, size = 4): ChatChunk[] {
  const out: ChatChunk[] = [];
  for (let i = 0; i < text.length; i += size)
    out.push(chunk(i === 0 ? { role: "assistant", content: text.slice(i, i + size) } : { content: text.slice(i, i + size) }));
  return out;
}

/** Reasoning deltas (`reasoning_content`). */
export function reasoningChunks(text: string, size = 6): ChatChunk[] {
  const out: ChatChunk[] = [];
  for (let i = 0; i < text.length; i += size) out.push(chunk({ reasoning_content: text.slice(i, i + size) }));
  return out;
}

export interface FakeToolCall {
  id: string;
  name: string;
  /** The arguments as the model writes them (JSON text; may be invalid on purpose). */
  arguments: string;
}

/**
 * Tool calls as a model streams them: per call, a first chunk with its index, id and name, then its
 * arguments in pieces of `size` characters. Calls are interleaved when `parallel` (pieces of every call
 * alternate, as parallel tool calls arrive), else one after the other.
 */
export function toolCallChunks(calls: FakeToolCall[], size = 5, parallel = false): ChatChunk[] {
  const pieces = calls.map((c, index) => {
    const parts: ChatChunk[] = [chunk({ tool_calls: [{ index, id: c.id, type: "function", function: { name: c.name, arguments: "" } }] })];
    for (let i = 0; i < c.arguments.length; i += size)
      parts.push(chunk({ tool_calls: [{ index, function: { arguments: c.arguments.slice(i, i + size) } }] }));
    return parts;
  });
  if (!parallel) return pieces.flat();
  const out: ChatChunk[] = [];
  for (let k = 0; pieces.some((p) => k < p.length); k++) for (const p of pieces) if (p[k]) out.push(p[k] as ChatChunk);
  return out;
}

/** The last content chunk: `finish_reason` (stop, tool_calls, length). */
export const finishChunk = (reason: "stop" | "tool_calls" | "length"): ChatChunk => chunk({}, reason);

/** The usage chunk (`stream_options.include_usage`): no choices, token counts. */
export function usageChunk(promptTokens: number, completionTokens: number): ChatChunk {
  return {
    id: "chatcmpl-fake",
    object: "chat.completion.chunk",
    created: 0,
    model: FAKE_MODEL,
    choices: [],
    usage: { prompt_tokens: promptTokens, completion_tokens: completionTokens, total_tokens: promptTokens + completionTokens },
  };
}
