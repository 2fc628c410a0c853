/** Run validation lives in @agentcast/run-check (the CLI uses it without the testkit); re-exported for tests. */
export {
  type CheckResult,
  type CheckStatus,
  DEFAULT_REQUIRED_EVENTS,
  FINAL_STATUSES,
  type FinalStatus,
  formatReport,
  type RunReport,
  type ValidateRunOptions,
  validateRun,
} from "@agentcast/run-check";
export {
  type ChatChunk,
  FAKE_MODEL,
  type FakeToolCall,
  finishChunk,
  reasoningChunks,
  textChunks,
  toolCallChunks,
  usageChunk,
} from "./fake-llm/chunks.js";
export { type ChatRequest, type FakeLlm, type FakeLlmRequest, type FakeReply, startFakeLlm } from "./fake-llm/fake-llm.js";
export {
  DEV_JWT_SECRET,
  GATEWAY_ENTRY,
  type GatewayProcess,
  startGatewayProcess,
  startWorkerProcess,
  WORKER_ENTRY,
  type WorkerProcess,
  type WorkerProcessOptions,
} from "./stack/app-processes.js";
export { type ChildHandle, jsonLine, spawnUntil } from "./stack/child.js";
export { type AppName, resolveAppEntry } from "./stack/entries.js";
export { freeClusterPorts, freePort } from "./stack/free-port.js";
export { type LocalStack, type LocalStackOptions, startLocalStack } from "./stack/local-stack.js";
export {
  type ClusterNodeHandle,
  parseClusterNodes,
  type RedisClusterHandle,
  type RedisClusterOptions,
  startRedisCluster,
} from "./stack/redis-cluster.js";
export { type RedisServerHandle, startRedisServer } from "./stack/redis-server.js";
export { startTcpBalancer, type TcpBalancer } from "./stack/tcp-balancer.js";
export { type CollectRunOptions, GatewayTestClient, type ReceivedMessage, type TestClientOptions } from "./test-client.js";
export { signDevToken } from "./tokens.js";
export { until } from "./until.js";
