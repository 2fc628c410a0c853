// What other packages and tests may import from the worker (the process itself starts from main.ts).
export type { Agent, AgentContext, AgentResult } from "./agents/agent.js";
export { AgentFailure } from "./agents/agent.js";
/** The demo agent's `/stream N` text, token by token: tests compare what clients received with it. */
export { demoStreamText, demoToken } from "./agents/token-stream.js";
