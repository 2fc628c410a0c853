import type { Keys } from "./keys.js";
import type { RedisClient } from "./redis-connection.js";

/** What a message id was used for: the run it started, and the task's lastSeq just before that run. */
export interface MessageOutcome {
  taskId: string;
  runId: string;
  fromSeq: number;
  /** Which message it was: its `taskId` as sent (absent for a new task) and a digest of its text. */
  sentTaskId?: string;
  textDigest: string;
}

export type MessageClaim = { claimed: true } | { claimed: false; outcome: MessageOutcome | undefined };

const PENDING = "pending";
/** A claim whose gateway died before recording the run must not block the id for long. */
const PENDING_TTL_SECONDS = 30;

/**
 * Client message ids (`user_message.messageId`): a message sent again with the same id — because its
 * ack was lost to a dropped connection — must not start a second run. The first sender claims the id
 * (SET NX), starts the run and records its outcome; a repeat finds the outcome and gets the same run.
 */
export class MessageIds {
  constructor(
    private readonly redis: RedisClient,
    private readonly keys: Keys,
    private readonly ttlSeconds: number,
  ) {}

  /** Claims `messageId` for `userId`, or returns what it already started (undefined while that is still in progress). */
  async claim(userId: string, messageId: string): Promise<MessageClaim> {
    const key = this.keys.message(userId, messageId);
    if ((await this.redis.set(key, PENDING, "EX", PENDING_TTL_SECONDS, "NX")) === "OK") return { claimed: true };
    const value = await this.redis.get(key);
    return { claimed: false, outcome: value && value !== PENDING ? (JSON.parse(value) as MessageOutcome) : undefined };
  }

  async record(userId: string, messageId: string, outcome: MessageOutcome): Promise<void> {
    await this.redis.set(this.keys.message(userId, messageId), JSON.stringify(outcome), "EX", this.ttlSeconds);
  }

  /** The run could not be started: free the id so the client's retry can start it. */
  async release(userId: string, messageId: string): Promise<void> {
    await this.redis.del(this.keys.message(userId, messageId));
  }
}
