import type { Agent, AgentContext, AgentResult } from "./context.js";
import { type Tool, ToolInputError } from "./define-tool.js";

/** The tools an agent was defined with, callable by name with unchecked arguments (a model's). */
export interface Toolbox {
  readonly list: readonly Tool[];
  /** Runs tool `name` as a tool call (see `Tool.call`); an unknown name is a ToolInputError, published as a failed call. */
  call(name: string, args: unknown): Promise<unknown>;
}

export interface AgentRunContext extends AgentContext {
  readonly tools: Toolbox;
}

export interface AgentDefinition {
  name: string;
  // biome-ignore lint/suspicious/noExplicitAny: a list of tools of any input and result types
  tools?: readonly Tool<any, any>[];
  run(ctx: AgentRunContext): Promise<AgentResult>;
}

/** Defines an agent with its tools: `ctx.tools.call(name, args)` runs one as a validated, published tool call. */
export function defineAgent(def: AgentDefinition): Agent {
  const list = (def.tools ?? []) as readonly Tool[];
  const byName = new Map(list.map((t) => [t.name, t]));
  if (byName.size !== list.length) throw new Error(`defineAgent ${def.name}: two tools share a name`);
  return {
    name: def.name,
    tools: list.map((t) => t.name),
    run(ctx) {
      const tools: Toolbox = {
        list,
        call(name, args) {
          const tool = byName.get(name);
          if (tool) return tool.call(ctx, args);
          const shown = typeof args === "object" && args !== null && !Array.isArray(args) ? (args as Record<string, unknown>) : {};
          return ctx.tool(name, shown, () => {
            throw new ToolInputError(`unknown tool ${name}; known: ${[...byName.keys()].join(", ") || "none"}`);
          });
        },
      };
      // The run's context with `tools` beside it; every other member is the run's own.
      const withTools = new Proxy(ctx, {
        get(target, prop) {
          if (prop === "tools") return tools;
          const value = Reflect.get(target, prop, target) as unknown;
          return typeof value === "function" ? value.bind(target) : value;
        },
      }) as AgentRunContext;
      return def.run(withTools);
    },
  };
}
