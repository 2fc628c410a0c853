// The example in docs/agents.md (examples/custom-agent/agent.mjs), run as a new user would: the real
// worker loads it through AGENT_MODULE, its typed tools become tool calls, and a follow-up sees the
// conversation so far.
import { fileURLToPath } from "node:url";
import { validateRunEvents } from "@agentcast/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Stack, startStack } from "./fixture.js";

const EXAMPLE = fileURLToPath(new URL("../../../examples/custom-agent/agent.mjs", import.meta.url));

describe("examples/custom-agent", () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ gateways: 1, workers: 1, workerEnv: { AGENT_MODULE: EXAMPLE } });
  });
  afterAll(() => stack?.stop());

  it("counts words with its typed tool, and sums the conversation on a follow-up", async () => {
    const a = await stack.client("alice");
    const first = await a.command("user_message", { text: "one two three" });
    if (!first.ok) throw new Error(JSON.stringify(first));
    const run1 = await a.collectRun(first.taskId);
    expect(validateRunEvents(run1)).toEqual([]);
    expect(run1.filter((e) => e.type === "tool_executing").map((e) => e.data)).toEqual([
      { toolCallId: "tc_1", tool: "word_count", args: { text: "one two three" } },
      { toolCallId: "tc_2", tool: "calculator", args: { expression: "3" } },
    ]);
    const text = (run: typeof run1) => run.map((e) => (e.type === "agent_output" ? e.data.delta : "")).join("");
    expect(text(run1)).toBe("Your message has 3 words.");

    const second = await a.command("user_message", { text: "four five", taskId: first.taskId });
    if (!second.ok) throw new Error(JSON.stringify(second));
    const run2 = await a.collectRun(first.taskId, { runId: second.runId });
    expect(text(run2)).toBe("Your message has 2 words; 5 in this conversation so far.");
    expect(run2.at(-1)).toMatchObject({ type: "agent_completed", data: { status: "succeeded", result: { words: 2, total: 5, turns: 1 } } });
    expect(stack.problems()).toEqual([]);
  });
});
