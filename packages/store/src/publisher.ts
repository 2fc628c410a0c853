import { type EventData, type EventEnvelope, type EventType, PROTOCOL_VERSION, taskRoom } from "@agentcast/protocol";
import { type Compaction, compactHistory } from "./history-compaction.js";
import { keySlot } from "./key-slot.js";
import type { Keys } from "./keys.js";
import { type ScriptedRedis, withLuaScripts } from "./lua-scripts.js";
import { PublishBatches, type ScriptEvent, type ScriptReply } from "./publish-batches.js";
import { isCluster, type RedisClient } from "./redis-connection.js";
import { ReplicaWaits } from "./replica-waits.js";
import { refusalOf, StaleRunError } from "./stale-run-error.js";
import { broadcastFrame, DEFAULT_CHANNEL_PREFIX, envelopeParts } from "./wire.js";

export interface PublisherOptions {
  keys: Keys;
  /** Attempts per positioned event when Redis errors (the script is idempotent per position). Default 5. */
  maxAttempts?: number;
  historyMaxLen: number;
  /** HISTORY_MAX_BYTES: bytes of envelopes (stream + snapshots) a task's history holds; absent or 0 = entries only. */
  historyMaxBytes?: number;
  historyTtlSeconds: number;
  channelPrefix?: string;
  /**
   * Replicas that must have an event before it is published live (REDIS_WAIT_REPLICAS): the script
   * appends it, `WAIT` holds it until that many replicas acknowledged it (or `waitTimeoutMs` passed),
   * then it is SPUBLISHed. 0 (default): the script publishes it at once.
   */
  waitReplicas?: number;
  /** How long one event waits for its replicas (REDIS_WAIT_TIMEOUT_MS); then it is published anyway. Default 100. */
  waitTimeoutMs?: number;
  /**
   * After a wait timed out on a master, its events are published without waiting for this long (then
   * one waits again): a master that lost its replica must not hold every event for the timeout — a
   * WAIT also blocks the connection it runs on. Default 1000.
   */
  waitBackoffMs?: number;
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
   * so a resend is safe (lua/publish-events-n.lua). Without it the event is appended unfenced (tests,
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
  /** The history went over its bound with this event and was compacted (compact-history-3.lua), or that failed. */
  compaction?: Compaction | { failed: unknown };
  /** Replicas that acknowledged the event before it was published live, when it waited for them; undefined when it did not wait. */
  replicas?: number;
  /**
   * It was published live before `waitReplicas` replicas acknowledged it: the wait timed out, or its
   * master's last wait did (see `waitBackoffMs`). A failover now could lose it.
   */
  unreplicated: boolean;
}

/**
 * Publishes agent events: one atomic script assigns seq, appends to history and SPUBLISHes to the
 * task room in the sharded adapter's format (see wire.ts) — or, with `waitReplicas`, appends, waits
 * for that many replicas to have the event, then SPUBLISHes it. Events published at the same time (the
 * runs of a worker) share script calls (publish-batches.ts); each still gets its own answer.
 */
export class EventPublisher {
  private readonly redis: ScriptedRedis;
  private readonly waits: ReplicaWaits;
  private readonly batches: PublishBatches;
  /** Per master (`host:port`, or `single`): until when its events are published without waiting (its last wait timed out). */
  private readonly unwaitedUntil = new Map<string, number>();
  constructor(
    redis: RedisClient,
    private readonly opts: PublisherOptions,
  ) {
    this.redis = withLuaScripts(redis);
    this.waits = new ReplicaWaits(redis, opts.waitTimeoutMs ?? 100);
    this.batches = new PublishBatches(this.redis);
  }

  async publish<T extends EventType>(event: EventToPublish<T>): Promise<Published> {
    const { keys, historyMaxLen, historyTtlSeconds } = this.opts;
    const { taskId, runId, userId, type, data, position } = event;
    const ts = event.ts ?? Date.now();
    const id = event.id ?? crypto.randomUUID();
    const wanted = this.opts.waitReplicas ?? 0;
    const master = wanted > 0 ? this.masterOf(taskId) : "";
    const waitReplicas = wanted > 0 && (this.unwaitedUntil.get(master) ?? 0) <= Date.now() ? wanted : 0;
    // The envelope's JSON split around seq, which only the script knows (wire.ts: head + seq + tail).
    const { head: envHead, tail: envTail } = envelopeParts({ type, ts, id, taskId, runId, userId, data });
    const frame = broadcastFrame(taskRoom(taskId), "event", this.opts.channelPrefix ?? DEFAULT_CHANNEL_PREFIX);
    const script: ScriptEvent = {
      keys: [keys.task(taskId), keys.events(taskId), keys.question(taskId), keys.snapshots(taskId)],
      args: [
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
        waitReplicas > 0 ? "" : "1",
        this.opts.historyMaxBytes ?? 0,
      ],
    };
    // Events published live share script calls (publish-batches.ts); one that waits for replicas goes
    // alone, since its WAIT would hold every event of a shared call.
    const append = async (): Promise<ScriptReply> => {
      if (waitReplicas === 0) return this.batches.send(script);
      const [seq = 0, code = 0, over = 0] = await this.redis.acPublishEvents(4, ...script.keys, ...script.args);
      return [seq, code, over];
    };
    // Waiting: append, WAIT on the same connection (the slot's master; one WAIT for every event appended
    // meanwhile, see ReplicaWaits), then SPUBLISH. A failure anywhere retries the whole step: the script
    // answers a position already appended with its seq. A resend (-3) is published again either way:
    // its first publish may not have happened.
    const step = async (): Promise<{ seq: number; code: number; over: boolean; replicas?: number }> => {
      const [seq, code, over] = await append();
      if (seq < 0 || (waitReplicas === 0 && code !== -3)) return { seq, code, over: over === 1 };
      const replicas = waitReplicas > 0 ? await this.waits.acknowledged(master, keys.task(taskId), waitReplicas) : undefined;
      // Published after a timeout too: the event is already in history there (docs/reliability.md).
      const receivers = Number(await this.redis.spublish(frame.channel, `${frame.prefix}${envHead}${seq}${envTail}${frame.suffix}`));
      return { seq, code: code === -3 ? -3 : receivers, over: over === 1, ...(replicas === undefined ? {} : { replicas }) };
    };
    const { seq, code, over, replicas } = await this.withRetry(step, position ? (this.opts.maxAttempts ?? 5) : 1);
    if (replicas !== undefined && replicas < wanted) this.unwaitedUntil.set(master, Date.now() + (this.opts.waitBackoffMs ?? 1_000));
    const refused = refusalOf(seq);
    if (refused) throw new StaleRunError(refused, taskId, runId, refused === "out_of_order" ? code : undefined);
    const envelope = { v: PROTOCOL_VERSION, id, seq, type, taskId, runId, userId, ts, data } as EventEnvelope;
    // Over its bound: fold the oldest streamed deltas into snapshots. The event is published either way,
    // so a failure here is reported with it, not thrown (the next event over the bound tries again).
    let compaction: Compaction | { failed: unknown } | undefined;
    if (over) {
      const bound = { maxLen: historyMaxLen, maxBytes: this.opts.historyMaxBytes ?? 0, ttlSeconds: historyTtlSeconds };
      compaction = await compactHistory(this.redis, keys, taskId, bound).catch((failed: unknown) => ({ failed }));
    }
    return {
      envelope,
      ...(compaction ? { compaction } : {}),
      receivers: Math.max(code, 0),
      duplicate: code === -3,
      unreplicated: wanted > 0 && (replicas ?? 0) < wanted,
      ...(replicas === undefined ? {} : { replicas }),
    };
  }

  /** The master serving the task's slot, as this connection's slot map says (one node: `single`). */
  private masterOf(taskId: string): string {
    if (!isCluster(this.redis)) return "single";
    return this.redis.slots[keySlot(this.opts.keys.task(taskId))]?.[0] ?? "unknown";
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
