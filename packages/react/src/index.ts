export { AgentcastProvider, useAgentcastClient } from "./provider.js";
export { EMPTY_VIEW, reduceTask, type TaskStatus, type TaskView } from "./task-state.js";
export { type AgentTask, useAgentTask } from "./use-agent-task.js";
export { useConnectionState } from "./use-connection-state.js";
