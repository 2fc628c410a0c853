// A complete agent for agentcast, written with @agentcast/agent (docs/agents.md walks through it).
// Run it: AGENT_MODULE=examples/custom-agent/agent.mjs npm start
import { calculatorTool, defineAgent, defineTool } from "@agentcast/agent";
import { z } from "zod";

// A typed tool: the schema checks every call (a bad argument is a failed tool call, not a crash) and
// gives a model its JSON Schema (wordCount.jsonSchema).
const wordCount = defineTool({
  name: "word_count",
  description: "Counts the words in a text",
  input: z.object({ text: z.string().max(100_000) }),
  run: ({ text }) => text.split(/\s+/).filter(Boolean).length,
});

export default defineAgent({
  name: "word-counter",
  tools: [wordCount, calculatorTool],
  async run(ctx) {
    await ctx.progress(10, "Counting");
    const words = await ctx.tools.call("word_count", { text: ctx.input });
    // The task's earlier runs (follow-ups on the same task): inputs, answers, questions and answers.
    const total = await ctx.tools.call("calculator", {
      expression: [words, ...ctx.conversation.map((t) => t.input.split(/\s+/).filter(Boolean).length)].join(" + "),
    });
    await ctx.output(`Your message has ${words} words`);
    await ctx.output(ctx.conversation.length > 0 ? `; ${total} in this conversation so far.` : ".");
    await ctx.progress(100, "Done");
    return { result: { words, total, turns: ctx.conversation.length } };
  },
});
