import { createLlmAgent, type LlmObserver, type LlmSettings } from "@agentcast/agent";
import type { Agent } from "./agent.js";
import { createDemoAgent } from "./demo-agent.js";

export interface AgentOptions {
  demoStepMs: number;
  /** DEMO_TOKEN_RATE: tokens per second of the demo's `/stream N`. */
  demoTokenRate?: number;
  /** AGENT=llm: LLM_* settings (validated by the config: present when AGENT is llm). */
  llm?: LlmSettings;
  llmObserver?: LlmObserver;
}

/** Agents selectable with AGENT=<name>. */
export const AGENTS: Record<string, (opts: AgentOptions) => Agent> = {
  demo: (opts) => createDemoAgent(opts.demoStepMs, opts.demoTokenRate),
  llm: (opts) => {
    if (!opts.llm) throw new Error("AGENT=llm needs LLM_BASE_URL and LLM_MODEL");
    return createLlmAgent(opts.llm, opts.llmObserver);
  },
};
