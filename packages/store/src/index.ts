export {
  type ClusterHealth,
  type ClusterObserver,
  type ClusterWatch,
  type ClusterWatchOptions,
  watchRedisCluster,
} from "./cluster-watch.js";
export { type ConversationBounds, ConversationStore, type StoredTurn } from "./conversation-store.js";
export { EventLog } from "./event-log.js";
export { newQuestionId, newRunId, newTaskId } from "./ids.js";
export { createKeys, type Keys } from "./keys.js";
export { type LuaScripts, type ScriptedRedis, withLuaScripts } from "./lua-scripts.js";
export { type MessageClaim, MessageIds, type MessageOutcome } from "./message-ids.js";
export { type ClusterRedirection, ObservedCluster } from "./observed-cluster.js";
export { EventPublisher, type EventToPublish, type Published, type PublisherOptions, type RunPosition } from "./publisher.js";
export {
  isReadToken,
  type MintedReadToken,
  type MintRefusal,
  READ_TOKEN_PREFIX,
  type ReadGrant,
  ReadTokens,
} from "./read-tokens.js";
export {
  checkRedisConfig,
  describeRedisTarget,
  type RedisTarget,
  redactRedisConfig,
  redisConfigShape,
  redisTargetOf,
} from "./redis-config.js";
export { type ConnectRedisOptions, connectRedis, isCluster, type RedisClient, type RedisRole } from "./redis-connection.js";
export { type RunJobData, runJobOptions } from "./run-job.js";
export { RunQueues, type RunQueuesOptions, runQueueName, runQueueShardOf } from "./run-queues.js";
export { StaleRunError, type StaleRunReason } from "./stale-run-error.js";
export {
  type TaskRecord,
  type TaskRefusal,
  type TaskResult,
  type TaskStatus,
  TaskStore,
  type TaskStoreOptions,
} from "./task-store.js";
export {
  type BroadcastFrame,
  broadcastFrame,
  CLUSTER_BROADCAST,
  DEFAULT_CHANNEL_PREFIX,
  type EnvelopeFields,
  EVENT_NAME,
  EVENT_PACKET,
  EVENT_PACKET_HEAD,
  envelopeParts,
  parseTaskFrame,
  readEnvelopeHead,
  roomChannel,
  type TaskFrame,
} from "./wire.js";
