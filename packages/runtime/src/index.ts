export { ConfigError, optionalEnvString, parseEnv, portSchema } from "./env-config.js";
export { createLogger } from "./logger.js";
export { type HealthCheck, type HealthStatus, type MetricsServerOptions, startMetricsServer } from "./metrics-server.js";
export { exitWithError, onShutdownSignal, withTimeout } from "./process.js";
export {
  createRedisClusterMetrics,
  REDIS_REDIRECTION_KINDS,
  type RedisClusterMetrics,
  type RedisClusterNodeCounts,
  type RedisRedirectionKind,
} from "./redis-cluster-metrics.js";
export { type PingableRedis, type RedisLivenessOptions, type RedisLivenessWatch, watchRedisLiveness } from "./redis-liveness.js";
export { type RedisOutageWatch, type WatchedRedis, watchRedisOutages } from "./redis-outages.js";
export {
  type Component,
  createSilentFailureCounter,
  SILENT_FAILURE_KINDS,
  type SilentFailure,
  type SilentFailureCounter,
  type SilentFailureKind,
} from "./silent-failures.js";
export { createSupervisor, type Supervised, type SupervisorOptions } from "./supervisor.js";
