import {
  type AgUiObserver,
  type AgUiSettings,
  createAgUiAgent,
  createLlmAgent,
  type LlmObserver,
  type LlmSettings,
} from "@agentcast/agent";
import type { Agent } from "./agent.js";
import { createDemoAgent } from "./demo-agent.js";

export interface AgentOptions {
  demoStepMs: number;
  /** DEMO_TOKEN_RATE: tokens per second of the demo's `/stream N`. */
  demoTokenRate?: number;
  /** AGENT=llm: LLM_* settings (validated by the config: present when AGENT is llm). */
  llm?: LlmSettings;
  llmObserver?: LlmObserver;
  /** AGENT=ag-ui: the remote agent (validated by the config: present when AGENT is ag-ui). */
  agUi?: AgUiSettings;
  agUiObserver?: AgUiObserver;
}

/** Agents selectable with AGENT=<name>. */
export const AGENTS: Record<string, (opts: AgentOptions) => Agent> = {
  demo: (opts) => createDemoAgent(opts.demoStepMs, opts.demoTokenRate),
  llm: (opts) => {
    if (!opts.llm) throw new Error("AGENT=llm needs LLM_BASE_URL and LLM_MODEL");
    return createLlmAgent(opts.llm, opts.llmObserver);
  },
  "ag-ui": (opts) => {
    if (!opts.agUi) throw new Error("AGENT=ag-ui needs AGENT_URL");
    return createAgUiAgent(opts.agUi, opts.agUiObserver);
  },
};
