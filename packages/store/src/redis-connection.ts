import { Cluster, type ClusterOptions, Redis, type RedisOptions } from "ioredis";
import type { RedisTarget } from "./redis-config.js";

/** A connection to one Redis node or to a Redis Cluster: the store and the apps take either. */
export type RedisClient = Redis | Cluster;

/**
 * What a connection is for:
 * - `commands`: commands and scripts (a failed command is retried over up to 3 reconnects);
 * - `subscriber`: subscriptions — sharded (SSUBSCRIBE, routed to the node that owns the channel's slot)
 *   and classic (control messages); no ready check, which would fail in subscriber mode;
 * - `blocking`: BullMQ's connection (blocking reads: never fail a command for a slow reconnect).
 */
export type RedisRole = "commands" | "subscriber" | "blocking";

export interface ConnectRedisOptions {
  /** `connectionName`, shown by CLIENT LIST (`<process id>:<role>`). */
  name: string;
  /** Batch commands issued in the same tick (the gateway's command connection). */
  autoPipelining?: boolean;
  /** On a cluster: how often the slot map is refreshed, so a sharded subscription follows its slot within this (default 1000 ms). */
  slotsRefreshIntervalMs?: number;
}

/**
 * Opens a connection to the target. On a cluster, commands go to the master of their key's slot (following
 * MOVED/ASK), and a `subscriber` keeps one sharded subscriber per master: after a failover or a slot
 * migration it moves each channel to the slot's new owner within `slotsRefreshIntervalMs` and emits
 * `subscribersReady` (live messages sent meanwhile must be recovered from history by the caller).
 */
export function connectRedis(target: RedisTarget, role: RedisRole, opts: ConnectRedisOptions): RedisClient {
  const perNode: RedisOptions = {
    connectionName: opts.name,
    ...(role === "commands" ? { maxRetriesPerRequest: 3 } : {}),
    ...(role === "blocking" ? { maxRetriesPerRequest: null } : {}),
    ...(role === "subscriber" ? { enableReadyCheck: false } : {}),
  };
  if (target.mode === "single") {
    return new Redis(target.url, { ...perNode, ...(opts.autoPipelining ? { enableAutoPipelining: true } : {}) });
  }
  const clusterOpts: ClusterOptions = {
    redisOptions: {
      ...perNode,
      ...(target.username ? { username: target.username } : {}),
      ...(target.password ? { password: target.password } : {}),
      ...(target.tls ? { tls: {} } : {}),
    },
    slotsRefreshInterval: opts.slotsRefreshIntervalMs ?? 1_000,
    ...(opts.autoPipelining ? { enableAutoPipelining: true } : {}),
    ...(role === "subscriber" ? { shardedSubscribers: true, enableReadyCheck: false } : {}),
    ...(role === "blocking" ? { enableReadyCheck: true } : {}),
  };
  return new Cluster(
    target.nodes.map((n) => ({ host: n.host, port: n.port })),
    clusterOpts,
  );
}

/** True when `client` is a cluster connection. */
export function isCluster(client: RedisClient): client is Cluster {
  return client instanceof Cluster;
}
