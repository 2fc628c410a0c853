// The AI SDK bridge (issue 16): examples/ai-sdk-agent/agent.mjs — a plain AI SDK streamText agent with an
// executing tool — run by the real worker through AGENT_MODULE against the fake provider; its stream
// becomes agentcast events through runAiSdkStream.
import { fileURLToPath } from "node:url";
import { validateRunEvents } from "@agentcast/protocol";
import { type FakeLlm, finishChunk, reasoningChunks, startFakeLlm, textChunks, toolCallChunks, usageChunk } from "@agentcast/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Stack, startStack } from "./fixture.js";

const EXAMPLE = fileURLToPath(new URL("../../../examples/ai-sdk-agent/agent.mjs", import.meta.url));

describe("AI SDK bridge (examples/ai-sdk-agent)", () => {
  let llm: FakeLlm;
  let stack: Stack;
  beforeAll(async () => {
    llm = await startFakeLlm((req) =>
      req.messages.some((m) => m.role === "tool")
        ? { stream: [...textChunks("Paris: rain today."), finishChunk("stop"), usageChunk(30, 5)] }
        : {
            stream: [
              ...reasoningChunks("Look it up."),
              ...toolCallChunks([{ id: "w1", name: "weather", arguments: '{"city":"Paris"}' }]),
              finishChunk("tool_calls"),
              usageChunk(12, 4),
            ],
          },
    );
    stack = await startStack({
      gateways: 1,
      workers: 1,
      workerEnv: { AGENT_MODULE: EXAMPLE, LLM_BASE_URL: llm.url, LLM_MODEL: "fake-model" },
    });
  });
  afterAll(async () => {
    await stack?.stop();
    await llm?.close();
  });

  it("text, reasoning, the tool call and its result, and usage arrive as agentcast events", async () => {
    const a = await stack.client("alice");
    const ack = await a.command("user_message", { text: "weather in Paris?" });
    if (!ack.ok) throw new Error(JSON.stringify(ack));
    const run = await a.collectRun(ack.taskId);
    expect(validateRunEvents(run)).toEqual([]);
    expect(run.map((e) => e.type).filter((t, i, all) => t !== all[i - 1])).toEqual([
      "agent_started",
      "agent_thinking",
      "tool_executing",
      "tool_completed",
      "agent_output",
      "agent_completed",
    ]);
    expect(run.find((e) => e.type === "tool_executing")?.data).toMatchObject({ tool: "weather", args: { city: "Paris" } });
    expect(run.find((e) => e.type === "tool_completed")?.data).toMatchObject({ ok: true, result: { city: "Paris", forecast: "rain" } });
    expect(run.at(-1)).toMatchObject({
      data: { status: "succeeded", result: { answer: "Paris: rain today.", usage: { inputTokens: 42, outputTokens: 9 } } },
    });
    expect(stack.problems()).toEqual([]);
  });
});
