// An agent you already have on the Vercel AI SDK, moved onto agentcast: the same streamText call, with
// the run's signal as its abortSignal, and one call — runAiSdkStream — that turns its stream into
// agentcast events (text, reasoning, tool calls and results, errors, finish). docs/agents.md explains it.
// Run it: AGENT_MODULE=examples/ai-sdk-agent/agent.mjs LLM_BASE_URL=http://localhost:11434/v1 LLM_MODEL=llama3.2 npm start

import { runAiSdkStream } from "@agentcast/agent";
import { createOpenAICompatible } from "@ai-sdk/openai-compatible";
import { isStepCount, streamText, tool } from "ai";
import { z } from "zod";

const provider = createOpenAICompatible({
  name: "my-provider",
  baseURL: process.env.LLM_BASE_URL ?? "http://localhost:11434/v1",
  apiKey: process.env.LLM_API_KEY || undefined,
  includeUsage: true,
});

const weather = tool({
  description: "The weather forecast for a city",
  inputSchema: z.object({ city: z.string() }),
  execute: async ({ city }) => ({ city, forecast: city.length % 2 === 0 ? "sunny" : "rain" }),
});

export default {
  name: "ai-sdk-weather",
  tools: ["weather"],
  async run(ctx) {
    const result = streamText({
      model: provider.chatModel(process.env.LLM_MODEL ?? "llama3.2"),
      instructions: "You answer questions about the weather.",
      prompt: ctx.input,
      tools: { weather },
      stopWhen: isStepCount(4),
      abortSignal: ctx.signal,
    });
    const { text, usage } = await runAiSdkStream(ctx, result);
    return { result: { answer: text, usage } };
  },
};
