import type { Agent } from "./agent.js";
import { createDemoAgent } from "./demo-agent.js";

export interface AgentOptions {
  demoStepMs: number;
}

/** Agents selectable with AGENT=<name>. */
export const AGENTS: Record<string, (opts: AgentOptions) => Agent> = {
  demo: (opts) => createDemoAgent(opts.demoStepMs),
};
