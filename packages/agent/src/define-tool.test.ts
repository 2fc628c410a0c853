import { describe, expect, it } from "vitest";
import { z } from "zod";
import type { AgentContext } from "./context.js";
import { defineAgent } from "./define-agent.js";
import { defineTool, ToolInputError } from "./define-tool.js";

/** A run context that records tool calls the way the worker publishes them (executing, then completed ok or not). */
function recordingContext() {
  const calls: { tool: string; args: unknown; ok: boolean; result?: unknown; error?: string }[] = [];
  const ctx = {
    input: "",
    taskId: "t",
    runId: "r",
    userId: "u",
    conversation: [],
    signal: new AbortController().signal,
    async tool(tool: string, args: Record<string, unknown>, fn: () => unknown) {
      try {
        const result = await fn();
        calls.push({ tool, args, ok: true, result });
        return result;
      } catch (err) {
        calls.push({ tool, args, ok: false, error: (err as Error).message });
        throw err;
      }
    },
  } as unknown as AgentContext;
  return { ctx, calls };
}

const add = defineTool({
  name: "add",
  description: "Adds two numbers",
  input: z.object({ a: z.number(), b: z.number().default(0) }),
  run: ({ a, b }) => a + b,
});

describe("defineTool", () => {
  it("gives a model the input's JSON Schema (object, required fields, defaults)", () => {
    expect(add.jsonSchema).toMatchObject({
      type: "object",
      properties: { a: { type: "number" }, b: { type: "number", default: 0 } },
      required: ["a"],
    });
    expect(add.jsonSchema).not.toHaveProperty("$schema");
  });

  it("a bad argument is a failed tool call that names the field, and a ToolInputError — not a crash", async () => {
    const { ctx, calls } = recordingContext();
    await expect(add.call(ctx, { a: "one" })).rejects.toBeInstanceOf(ToolInputError);
    await expect(add.call(ctx, "not an object")).rejects.toThrow(/invalid arguments for add/);
    expect(await add.call(ctx, { a: 2 })).toBe(2);
    expect(calls.map((c) => [c.ok, c.error?.split(":").slice(0, 2).join(":")])).toEqual([
      [false, "invalid arguments for add: a"],
      [false, "invalid arguments for add: arguments"],
      [true, undefined],
    ]);
    expect(calls[1]?.args).toEqual({ arguments: "not an object" });
  });

  it("refuses names a model cannot call and inputs that are not objects", () => {
    expect(() => defineTool({ name: "has space", description: "", input: z.object({}), run: () => 0 })).toThrow(/name must match/);
    expect(() => defineTool({ name: "n", description: "", input: z.string(), run: () => 0 })).toThrow(/object schema/);
  });
});

describe("defineAgent", () => {
  it("ctx.tools.call runs a tool by name; an unknown name is a failed call listing the known tools", async () => {
    const agent = defineAgent({
      name: "a",
      tools: [add],
      async run(ctx) {
        const sum = await ctx.tools.call("add", { a: 1, b: 2 });
        const missing = await ctx.tools.call("nope", {}).catch((err: Error) => err.message);
        return { result: { sum, missing, input: ctx.input } };
      },
    });
    expect(agent.tools).toEqual(["add"]);
    const { ctx, calls } = recordingContext();
    expect(await agent.run(ctx)).toEqual({ result: { sum: 3, missing: "unknown tool nope; known: add", input: "" } });
    expect(calls.map((c) => [c.tool, c.ok])).toEqual([
      ["add", true],
      ["nope", false],
    ]);
  });

  it("two tools with one name are refused", () => {
    expect(() => defineAgent({ name: "a", tools: [add, add], run: async () => ({}) })).toThrow(/share a name/);
  });
});
