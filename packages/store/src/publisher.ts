import { type EventData, type EventEnvelope, type EventType, PROTOCOL_VERSION, taskRoom } from "@agentcast/protocol";
import type { Redis } from "ioredis";
import { broadcastFrame, DEFAULT_CHANNEL_PREFIX } from "./adapter-wire.js";
import type { Keys } from "./keys.js";
import { type ScriptedRedis, withScripts } from "./redis-scripts.js";

export interface PublisherOptions {
  keys: Keys;
  /** Attempts per event when Redis errors (the script is idempotent per event id). Default 5. */
  maxAttempts?: number;
  historyMaxLen: number;
  historyTtlSeconds: number;
  channelPrefix?: string;
}

export interface EventToPublish<T extends EventType = EventType> {
  taskId: string;
  runId: string;
  userId: string;
  type: T;
  data: EventData<T>;
}

export interface Published {
  envelope: EventEnvelope;
  /** Gateways subscribed to the task's room when it was published (0 = nobody was watching live). */
  receivers: number;
  /** True when a retry found the event already published (its first reply was lost). */
  duplicate: boolean;
}

/** The run is no longer the task's current run, or it has already ended: nothing was published. */
export class StaleRunError extends Error {
  constructor(
    readonly reason: "superseded" | "ended",
    readonly taskId: string,
    readonly runId: string,
  ) {
    super(`run ${runId} of task ${taskId} is ${reason}; event not published`);
    this.name = "StaleRunError";
  }
}

/**
 * Publishes agent events: one atomic script assigns seq, appends to history and SPUBLISHes to the
 * task room in the sharded adapter's format (see adapter-wire.ts).
 */
export class EventPublisher {
  private readonly redis: ScriptedRedis;
  constructor(
    redis: Redis,
    private readonly opts: PublisherOptions,
  ) {
    this.redis = withScripts(redis);
  }

  async publish<T extends EventType>(event: EventToPublish<T>): Promise<Published> {
    const { keys, historyMaxLen, historyTtlSeconds } = this.opts;
    const ts = Date.now();
    const id = crypto.randomUUID();
    const { taskId, runId, userId, type, data } = event;
    // Envelope JSON is split around seq, which only the script knows: head + seq + tail. `v`, `seq`,
    // `type` and `ts` lead, in this order: gateways read them off the published bytes without parsing
    // the rest (`apps/gateway/src/adapter/task-frame.ts`; anything else takes their JSON path).
    const envHead = `{"v":${PROTOCOL_VERSION},"seq":`;
    const envTail = `,${JSON.stringify({ type, ts, id, taskId, runId, userId, data }).slice(1)}`;
    const frame = broadcastFrame(taskRoom(taskId), "event", this.opts.channelPrefix ?? DEFAULT_CHANNEL_PREFIX);
    const call = () =>
      this.redis.acPublishEvent(
        keys.task(taskId),
        keys.events(taskId),
        keys.question(taskId),
        runId,
        type,
        envHead,
        envTail,
        frame.prefix,
        frame.suffix,
        frame.channel,
        historyMaxLen,
        historyTtlSeconds,
        ts,
        type === "agent_question" ? (data as EventData<"agent_question">).questionId : "",
        finalStatus(type, data),
        id,
      ) as Promise<[number, number]>;
    const [seq, receivers] = await this.withRetry(call);
    if (seq === -1) throw new StaleRunError("superseded", taskId, runId);
    if (seq === -2) throw new StaleRunError("ended", taskId, runId);
    const envelope = { v: PROTOCOL_VERSION, id, seq, type, taskId, runId, userId, ts, data } as EventEnvelope;
    return { envelope, receivers: Math.max(receivers, 0), duplicate: receivers === -3 };
  }

  private async withRetry<T>(call: () => Promise<T>): Promise<T> {
    const attempts = this.opts.maxAttempts ?? 5;
    for (let attempt = 1; ; attempt++) {
      try {
        return await call();
      } catch (err) {
        if (attempt >= attempts) throw err;
        await new Promise((r) => setTimeout(r, 100 * 2 ** (attempt - 1)));
      }
    }
  }
}

function finalStatus(type: EventType, data: unknown): string {
  if (type === "agent_error") return "failed";
  if (type === "agent_completed") return (data as EventData<"agent_completed">).status;
  return "";
}
