export { AgentcastClient, type ClientOptions, type ConnectionState, createClient } from "./client.js";
export { AgentcastError } from "./errors.js";
export { TaskHandle } from "./task-handle.js";
export { TaskStream } from "./task-stream.js";
