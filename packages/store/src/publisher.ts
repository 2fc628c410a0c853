import { type EventData, type EventEnvelope, type EventType, PROTOCOL_VERSION, taskRoom } from "@agentcast/protocol";
import type { Keys } from "./keys.js";
import { type ScriptedRedis, withLuaScripts } from "./lua-scripts.js";
import type { RedisClient } from "./redis-connection.js";
import { refusalOf, StaleRunError } from "./stale-run-error.js";
import { broadcastFrame, DEFAULT_CHANNEL_PREFIX, envelopeParts } from "./wire.js";

export interface PublisherOptions {
  keys: Keys;
  /** Attempts per positioned event when Redis errors (the script is idempotent per position). Default 5. */
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
  /**
   * Where the event stands in its run: the owner token of the run's execution and the event's index
   * (0 = agent_started). The script publishes each index once per owner and fences off other owners,
   * so a resend is safe (lua/publish-event-3.lua). Without it the event is appended unfenced (tests,
   * the benchmark) and tried once.
   */
  position?: RunPosition;
  /** Envelope id and ts, when resending an event whose publish failed (default: new ones). */
  id?: string;
  ts?: number;
}

export interface RunPosition {
  owner: string;
  index: number;
}

export interface Published {
  envelope: EventEnvelope;
  /** Gateways subscribed to the task's room when it was published (0 = nobody was watching live). */
  receivers: number;
  /** True when this position was already published (a resend whose first reply was lost): nothing was appended. */
  duplicate: boolean;
}

/**
 * Publishes agent events: one atomic script assigns seq, appends to history and SPUBLISHes to the
 * task room in the sharded adapter's format (see wire.ts).
 */
export class EventPublisher {
  private readonly redis: ScriptedRedis;
  constructor(
    redis: RedisClient,
    private readonly opts: PublisherOptions,
  ) {
    this.redis = withLuaScripts(redis);
  }

  async publish<T extends EventType>(event: EventToPublish<T>): Promise<Published> {
    const { keys, historyMaxLen, historyTtlSeconds } = this.opts;
    const { taskId, runId, userId, type, data, position } = event;
    const ts = event.ts ?? Date.now();
    const id = event.id ?? crypto.randomUUID();
    // The envelope's JSON split around seq, which only the script knows (wire.ts: head + seq + tail).
    const { head: envHead, tail: envTail } = envelopeParts({ type, ts, id, taskId, runId, userId, data });
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
        position?.owner ?? "",
        position?.index ?? "",
      );
    const [seq, receivers] = await this.withRetry(call, position ? (this.opts.maxAttempts ?? 5) : 1);
    const refused = refusalOf(seq);
    if (refused) throw new StaleRunError(refused, taskId, runId);
    const envelope = { v: PROTOCOL_VERSION, id, seq, type, taskId, runId, userId, ts, data } as EventEnvelope;
    return { envelope, receivers: Math.max(receivers, 0), duplicate: receivers === -3 };
  }

  private async withRetry<T>(call: () => Promise<T>, attempts: number): Promise<T> {
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
