/**
 * Redis key names. Every key of one task carries the task id as a hash tag (`{id}`), the same
 * tag as its Socket.IO room `task:{id}`, so the publish script touches one cluster slot.
 */
export interface Keys {
  readonly prefix: string;
  task(taskId: string): string;
  events(taskId: string): string;
  /** Hash `<runId>|<type>` → snapshot envelope: old streamed deltas folded into one (compact-history-3.lua). */
  snapshots(taskId: string): string;
  question(taskId: string): string;
  /** List of the task's finished runs as turns (input, answer, questions), oldest first (append-turn-2.lua). */
  conversation(taskId: string): string;
  /** Hash tokenId → `<expiresAtMs>:<sha256 of the secret>`: the task's read tokens (mint-read-token-2.lua). */
  readTokens(taskId: string): string;
  /** questionId of an answer stored but not yet consumed by the run (for ack_timeout). */
  pendingAnswer(taskId: string): string;
  /** Hash gatewayId → JSON heartbeat, for GET /v1/stats. */
  readonly gateways: string;
  userTasks(userId: string): string;
  userTaskCounter(userId: string): string;
  /** What a client message id (user_message.messageId) started, so a resent message is not run twice. */
  message(userId: string, messageId: string): string;
  /** Classic pub/sub channel gateways use to tell workers about cancels and answers. */
  readonly controlChannel: string;
  /** BullMQ key prefix. */
  readonly queuePrefix: string;
}

export function createKeys(prefix = "ac"): Keys {
  return {
    prefix,
    task: (taskId) => `${prefix}:{${taskId}}:task`,
    events: (taskId) => `${prefix}:{${taskId}}:events`,
    snapshots: (taskId) => `${prefix}:{${taskId}}:snapshots`,
    question: (taskId) => `${prefix}:{${taskId}}:question`,
    conversation: (taskId) => `${prefix}:{${taskId}}:conversation`,
    pendingAnswer: (taskId) => `${prefix}:{${taskId}}:pending-answer`,
    readTokens: (taskId) => `${prefix}:{${taskId}}:read-tokens`,
    gateways: `${prefix}:gateways`,
    userTasks: (userId) => `${prefix}:user:{${userId}}:tasks`,
    userTaskCounter: (userId) => `${prefix}:user:{${userId}}:count`,
    message: (userId, messageId) => `${prefix}:user:{${userId}}:msg:${messageId}`,
    controlChannel: `${prefix}:control`,
    queuePrefix: `${prefix}:bull`,
  };
}
