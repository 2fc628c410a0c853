export { formatReport } from "./format-report.js";
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
export { freePort } from "./stack/free-port.js";
export { type LocalStack, type LocalStackOptions, startLocalStack } from "./stack/local-stack.js";
export { type RedisServerHandle, startRedisServer } from "./stack/redis-server.js";
export { startTcpBalancer, type TcpBalancer } from "./stack/tcp-balancer.js";
export { type CollectRunOptions, GatewayTestClient, type ReceivedMessage, type TestClientOptions } from "./test-client.js";
export { signDevToken } from "./tokens.js";
export {
  type CheckResult,
  type CheckStatus,
  DEFAULT_REQUIRED_EVENTS,
  type FinalStatus,
  type RunReport,
  type ValidateRunOptions,
  validateRun,
} from "./validate-run.js";
