export { type BroadcastFrame, broadcastFrame, DEFAULT_CHANNEL_PREFIX } from "./adapter-wire.js";
export { EventLog } from "./event-log.js";
export { newQuestionId, newRunId, newTaskId } from "./ids.js";
export { createKeys, type Keys, RUN_QUEUE_NAME } from "./keys.js";
export { type MessageClaim, MessageIds, type MessageOutcome } from "./message-ids.js";
export { EventPublisher, type EventToPublish, type Published, type PublisherOptions, StaleRunError } from "./publisher.js";
export { type RunJobData, runJobOptions } from "./run-job.js";
export {
  type TaskRecord,
  type TaskRefusal,
  type TaskResult,
  type TaskStatus,
  TaskStore,
  type TaskStoreOptions,
} from "./task-store.js";
