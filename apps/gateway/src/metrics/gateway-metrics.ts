import { createRedisClusterMetrics, createSilentFailureCounter, type RedisClusterNodeCounts } from "@agentcast/runtime";
import { Counter, collectDefaultMetrics, Gauge, Registry } from "prom-client";
import { DeliveryMeter } from "./delivery-meter.js";

/** What the gateway runs in the background under its supervisor (`agentcast_gateway_background_failures_total{job}`). */
export const BACKGROUND_JOBS = [
  "replay",
  "resync",
  "abandon_run",
  "lease_renewal",
  "connection_release",
  "answer_watch",
  "user_room_confirm",
] as const;

/** Live values the gauges read at scrape time. */
export interface GatewayGaugeSources {
  connections(): number;
  /** Task and user rooms held by this pod (not the per-socket rooms). */
  rooms(): number;
  redisUp(): boolean;
  /** On a Redis Cluster: masters serving slots this gateway reached at its latest probe, and those it did not. */
  redisClusterNodes?(): RedisClusterNodeCounts | undefined;
  /** Open HTTP streams, by protocol. */
  httpStreams?(): ReadonlyMap<string, number>;
}

/**
 * Gateway metrics on an explicit registry. Labels are bounded (command names, error codes, event
 * types, Socket.IO disconnect reasons) — never a user, task or room id.
 */
export function createGatewayMetrics(gatewayId: string, sources: GatewayGaugeSources) {
  const registry = new Registry();
  registry.setDefaultLabels({ gateway_id: gatewayId });
  collectDefaultMetrics({ register: registry });
  const registers = [registry];
  const eventsDelivered: Counter<"type"> = new Counter({
    name: "agentcast_gateway_events_delivered_total",
    help: "Agent events written to sockets (live and replayed), by type",
    labelNames: ["type"] as const,
    registers,
    collect: (): void => deliveries.flushCounters(),
  });
  const eventsReplayed: Counter = new Counter({
    name: "agentcast_gateway_events_replayed_total",
    help: "Agent events written to sockets from history",
    registers,
    collect: (): void => deliveries.flushCounters(),
  });
  const deliveries: DeliveryMeter = new DeliveryMeter(eventsDelivered, eventsReplayed);
  deliveries.registerLagHistogram(
    registry,
    "agentcast_gateway_delivery_lag_seconds",
    "Live events: time from the worker's envelope ts to the gateway writing it to a socket",
  );
  return {
    registry,
    silentFailures: createSilentFailureCounter(registry, "gateway"),
    /** agentcast_redis_cluster_*: topology changes, redirections, node errors, masters reachable. */
    redisCluster: createRedisClusterMetrics(registry, "gateway", () => sources.redisClusterNodes?.()),
    connections: new Gauge({
      name: "agentcast_gateway_connections",
      help: "Open Socket.IO connections on this gateway",
      registers,
      collect() {
        this.set(sources.connections());
      },
    }),
    rooms: new Gauge({
      name: "agentcast_gateway_rooms",
      help: "Task and user rooms held by this gateway (its Redis shard subscriptions)",
      registers,
      collect() {
        this.set(sources.rooms());
      },
    }),
    redisUp: new Gauge({
      name: "agentcast_gateway_redis_up",
      help: "1 when the gateway can serve from Redis (connections ready; on a cluster every master answers and cluster_state is ok), else 0",
      registers,
      collect() {
        this.set(sources.redisUp() ? 1 : 0);
      },
    }),
    connectionsOpened: new Counter({
      name: "agentcast_gateway_connections_opened_total",
      help: "Socket.IO connections accepted",
      registers,
    }),
    disconnections: new Counter({
      name: "agentcast_gateway_disconnections_total",
      help: "Socket.IO disconnections, by Socket.IO's reason",
      labelNames: ["reason"] as const,
      registers,
    }),
    authFailures: new Counter({
      name: "agentcast_gateway_auth_failures_total",
      help: "Handshakes and HTTP requests refused for their token, by error code",
      labelNames: ["code"] as const,
      registers,
    }),
    commands: new Counter({
      name: "agentcast_gateway_commands_total",
      help: "Client commands, by command and outcome (ok or an error code)",
      labelNames: ["command", "outcome"] as const,
      registers,
    }),
    eventsDelivered,
    limits: new Counter({
      name: "agentcast_gateway_limits_total",
      help: "Requests refused or connections closed by a limit, by limit",
      labelNames: ["limit"] as const,
      registers,
    }),
    limitCheckFailures: new Counter({
      name: "agentcast_gateway_limit_check_failures_total",
      help: "Per-user limit checks that failed (Redis error), by limit; the request was admitted (the limits fail open)",
      labelNames: ["limit"] as const,
      registers,
    }),
    handshakesAbandoned: new Counter({
      name: "agentcast_gateway_handshakes_abandoned_total",
      help: "Socket.IO handshakes whose connection closed before the socket connected (any lease taken was released)",
      registers,
    }),
    httpStreams: new Gauge({
      name: "agentcast_gateway_http_streams",
      help: "Open HTTP event streams on this gateway, by protocol (sse, ag_ui, ai_sdk)",
      labelNames: ["protocol"] as const,
      registers,
      collect() {
        this.reset();
        for (const [protocol, n] of sources.httpStreams?.() ?? []) this.set({ protocol }, n);
      },
    }),
    httpStreamsOpened: new Counter({
      name: "agentcast_gateway_http_streams_opened_total",
      help: "HTTP event streams opened, by protocol",
      labelNames: ["protocol"] as const,
      registers,
    }),
    readTokens: new Counter({
      name: "agentcast_gateway_read_tokens_total",
      help: "Read tokens, by action: minted, revoked, refused (the per-task limit), rejected (a request with an unknown, expired, revoked or other task's token)",
      labelNames: ["action"] as const,
      registers,
    }),
    eventsReplayed,
    /** Counts each event written to a socket: events_delivered_total, events_replayed_total, delivery_lag_seconds. */
    deliveries,
  };
}

export type GatewayMetrics = ReturnType<typeof createGatewayMetrics>;
