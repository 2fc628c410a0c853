// What a team imports to write agents and tools for agentcast.
export { type AgUiObserver, type AgUiSettings, createAgUiAgent } from "./ag-ui/ag-ui-agent.js";
export { AG_UI_ERROR_CODES, type AgUiErrorCode } from "./ag-ui/ag-ui-errors.js";
export { type Agent, type AgentContext, AgentFailure, type AgentResult, type ConversationTurn } from "./context.js";
export { type AgentDefinition, type AgentRunContext, defineAgent, type Toolbox } from "./define-agent.js";
export { defineTool, type Tool, type ToolDefinition, ToolInputError } from "./define-tool.js";
export { type BridgedRun, type BridgeOptions, ModelStreamError, runAiSdkStream } from "./llm/ai-sdk-bridge.js";
export { conversationMessages, createLlmAgent, type LlmObserver, type LlmSettings } from "./llm/llm-agent.js";
export { LLM_ERROR_CODES, type LlmErrorCode, toLlmFailure } from "./llm/llm-errors.js";
export { LlmTimeoutError, type ProviderFetchOptions, providerFetch, retryAfterMs, retryDelayMs } from "./llm/provider-fetch.js";
export { askUserTool, calculatorTool, clockTool, timeIn } from "./tools/builtin-tools.js";
export { evaluate, findExpression } from "./tools/calculator.js";
