import type { Agent } from "./agent.js";
import { createDemoAgent } from "./demo-agent.js";

export interface AgentOptions {
  demoStepMs: number;
  /** DEMO_TOKEN_RATE: tokens per second of the demo's `/stream N`. */
  demoTokenRate?: number;
}

/** Agents selectable with AGENT=<name>. */
export const AGENTS: Record<string, (opts: AgentOptions) => Agent> = {
  demo: (opts) => createDemoAgent(opts.demoStepMs, opts.demoTokenRate),
};
