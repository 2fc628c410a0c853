import { z } from "zod";
import type { AgentContext } from "./context.js";

/** Tool names a model accepts (OpenAI's function-name rule). */
const TOOL_NAME = /^[a-zA-Z0-9_-]{1,64}$/;

export interface ToolDefinition<S extends z.ZodType, R> {
  name: string;
  /** What the tool does, for the model. */
  description: string;
  /** The arguments' schema: validates every call and gives the model its JSON Schema. */
  input: S;
  run(args: z.infer<S>, ctx: AgentContext): Promise<R> | R;
}

export interface Tool<S extends z.ZodType = z.ZodType, R = unknown> extends ToolDefinition<S, R> {
  /** The input's JSON Schema (an object schema), as a model's function `parameters`. */
  readonly jsonSchema: Record<string, unknown>;
  /**
   * Runs the tool as one tool call of the run (`tool_executing`, then `tool_completed`). Arguments that do
   * not match the schema make a failed call (`ok: false`, the error names the bad fields) and throw
   * ToolInputError — a model's mistake is a tool error it can read, never a crash.
   */
  call(ctx: AgentContext, args: unknown): Promise<R>;
}

/** A tool call whose arguments did not match the tool's schema (or named no known tool). */
export class ToolInputError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "ToolInputError";
  }
}

/** `{ expression: string }` → "expression: Invalid input: expected string, received number". */
function describeIssues(error: z.ZodError): string {
  return error.issues.map((i) => `${i.path.length > 0 ? i.path.join(".") : "arguments"}: ${i.message}`).join("; ");
}

/** Defines a typed tool: its schema validates arguments and produces the JSON Schema a model needs. */
export function defineTool<S extends z.ZodType, R>(def: ToolDefinition<S, R>): Tool<S, R> {
  if (!TOOL_NAME.test(def.name)) throw new Error(`defineTool: name must match ${TOOL_NAME}, not ${JSON.stringify(def.name)}`);
  const jsonSchema = z.toJSONSchema(def.input, { io: "input" }) as Record<string, unknown>;
  if (jsonSchema.type !== "object") throw new Error(`defineTool ${def.name}: input must be an object schema (z.object)`);
  delete jsonSchema.$schema;
  return {
    ...def,
    jsonSchema,
    call(ctx, args) {
      const shown =
        typeof args === "object" && args !== null && !Array.isArray(args) ? (args as Record<string, unknown>) : { arguments: args };
      return ctx.tool(def.name, shown, async () => {
        const parsed = def.input.safeParse(args);
        if (!parsed.success) throw new ToolInputError(`invalid arguments for ${def.name}: ${describeIssues(parsed.error)}`);
        return def.run(parsed.data, ctx);
      });
    },
  };
}
