import { type Supervised, withTimeout } from "@agentcast/runtime";
import { type EventLog, type RedisClient, roomChannel } from "@agentcast/store";
import type { Logger } from "pino";
import type { Server } from "socket.io";
import { createTaskEventAdapter } from "../adapter/task-event-adapter.js";
import type { GatewayMetrics } from "../metrics/gateway-metrics.js";
import { HistoryPages } from "./history-pages.js";
import { SlowConsumers } from "./slow-consumers.js";
import { SubscriptionRegistry } from "./subscription-registry.js";

export interface TaskDeliveryOptions {
  server: Server;
  /** The adapter's publisher and the history reader. */
  cmd: RedisClient;
  /** The adapter's subscriber. */
  sub: RedisClient;
  /** Registers the resync of every subscription for when live messages may have been missed (see GatewayRedis). */
  onSubscriptionsMoved: (resync: () => void) => void;
  eventLog: EventLog;
  metrics: GatewayMetrics;
  supervisor: Supervised;
  logger: Logger;
  maxSubscriptionsPerSocket: number;
  maxOutboundBytes: number;
  /** How long a room's SSUBSCRIBE may take to be confirmed. */
  roomConfirmTimeoutMs?: number;
  /** Gateway-to-gateway notices on task rooms (by event name), e.g. a read token's revocation. */
  notices?: { names: ReadonlySet<string>; onNotice: (taskId: string, name: string, arg: unknown) => void };
}

/** A slow consumer's connection is gone at most this long after it crossed the outbound bound. */
export const SLOW_CONSUMER_CLOSE_MS = 1_000;
const HISTORY_PAGE_SIZE = 100;
const MAX_CONCURRENT_HISTORY_READS = 16;

/**
 * How task events reach sockets on this gateway: the task-aware sharded adapter hands each live
 * event to the subscription registry, which replays history, merges, bounds slow consumers, and
 * resyncs every subscription when the Redis subscriber reconnects. `app.ts` wires the gateway with
 * this, and tests that run the delivery path in-process use the same function.
 */
export function createTaskDelivery(opts: TaskDeliveryOptions): {
  registry: SubscriptionRegistry;
  confirmRoom: (room: string) => Promise<void>;
} {
  const { server, cmd, sub, metrics, logger } = opts;
  const confirmTimeoutMs = opts.roomConfirmTimeoutMs ?? 5_000;
  // The adapter SSUBSCRIBEs when a room is created and does not wait; our own SSUBSCRIBE of the same
  // channel on the same connection is answered after it, so its reply confirms the room.
  const confirmRoom = async (room: string): Promise<void> => {
    await withTimeout(sub.ssubscribe(roomChannel(room)), confirmTimeoutMs, `room subscription ${room}`);
  };
  const registry = new SubscriptionRegistry({
    nsp: server.of("/"),
    history: new HistoryPages({
      eventLog: opts.eventLog,
      nsp: server.of("/"),
      pageSize: HISTORY_PAGE_SIZE,
      maxConcurrentReads: MAX_CONCURRENT_HISTORY_READS,
    }),
    slowConsumers: new SlowConsumers({
      maxOutboundBytes: opts.maxOutboundBytes,
      closeGraceMs: SLOW_CONSUMER_CLOSE_MS,
      onClosed: () => metrics.limits.inc({ limit: "slow_consumer" }),
      logger,
    }),
    confirmRoom,
    readPosition: (taskId) => opts.eventLog.position(taskId),
    supervisor: opts.supervisor,
    logger,
    onDelivered: (event, replayed) =>
      metrics.deliveries.count(event.type, replayed, replayed ? undefined : Math.max(0, Date.now() - event.ts) / 1000),
    onProblem: (kind) => metrics.silentFailures.inc(kind),
    maxSubscriptionsPerSocket: opts.maxSubscriptionsPerSocket,
  });
  // After the subscriber connection comes back (Redis restart, Redis dropping a subscriber that fell behind
  // its pubsub output buffer) or a cluster moved a slot's subscriptions, resync every subscription from history.
  opts.onSubscriptionsMoved(() => registry.resyncAll());
  server.adapter(createTaskEventAdapter(cmd, sub, (taskId, room, event) => registry.onLiveEvent(taskId, room, event), opts.notices));
  return { registry, confirmRoom };
}
