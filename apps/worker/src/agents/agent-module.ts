import { isAbsolute, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import type { Agent } from "./agent.js";
import { AGENTS } from "./registry.js";

/**
 * AGENT_MODULE: your own agent, loaded before the configuration is read. The module's default export
 * (or its `createAgent` export) is an agent `{ name, run(ctx) }` or a factory `(opts) => agent`; it is
 * registered under AGENT (default `custom`), so AGENT's validation accepts it. Returns the problem,
 * worded for a boot error, or undefined.
 */
export async function registerAgentModule(env: NodeJS.ProcessEnv): Promise<string | undefined> {
  const path = env.AGENT_MODULE;
  if (!path) return undefined;
  const name = env.AGENT || "custom";
  let mod: Record<string, unknown>;
  try {
    mod = (await import(pathToFileURL(isAbsolute(path) ? path : resolve(path)).href)) as Record<string, unknown>;
  } catch (err) {
    return `AGENT_MODULE: cannot load ${path}: ${err instanceof Error ? err.message : String(err)}`;
  }
  const exported = mod.default ?? mod.createAgent;
  const isAgent = (v: unknown): v is Agent => typeof v === "object" && v !== null && typeof (v as Agent).run === "function";
  if (typeof exported === "function") AGENTS[name] = exported as (typeof AGENTS)[string];
  else if (isAgent(exported)) AGENTS[name] = () => exported;
  else return `AGENT_MODULE: ${path} must export (default or createAgent) an agent { name, run(ctx) } or a factory of one`;
  env.AGENT = name;
  return undefined;
}
