export { ConfigError, optionalEnvString, parseEnv, portSchema } from "./env-config.js";
export { createLogger } from "./logger.js";
export { startMetricsServer } from "./metrics-server.js";
export { exitWithError, onShutdownSignal, withTimeout } from "./process.js";
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
