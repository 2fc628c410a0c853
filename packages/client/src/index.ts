export { AgentcastClient, type ClientOptions, type ConnectionState, createClient } from "./client.js";
export { AgentcastError } from "./errors.js";
export { EMPTY_RUN_TEXT, foldRunText, type RunText } from "./run-text.js";
export { TaskHandle } from "./task-handle.js";
export { TaskStream } from "./task-stream.js";
