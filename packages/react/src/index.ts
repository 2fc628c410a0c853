export { AgentcastProvider, useAgentcastClient } from "./provider.js";
export { EMPTY_VIEW, reduceFields, reduceTask, type TaskFields, type TaskStatus, type TaskView } from "./task-state.js";
export { type AgentTask, type AgentTaskOptions, DEFAULT_BATCH_MS, DEFAULT_MAX_EVENTS, useAgentTask } from "./use-agent-task.js";
export { useConnectionState } from "./use-connection-state.js";
