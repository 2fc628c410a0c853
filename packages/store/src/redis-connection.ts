import { Cluster, type ClusterOptions, Redis, type RedisOptions } from "ioredis";
import { ObservedCluster } from "./observed-cluster.js";
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
 * How a cluster command rides out a slot migration. While a slot is half-moved every multi-key command on
 * it (the publish script: task, history, question) is refused with TRYAGAIN — also when one of its keys (an
 * absent question) does not exist anywhere — until the slot is whole again. ioredis resends after
 * `retryDelayOnTryAgain` to a random node, which sends it on (MOVED, ASK), and gives up after
 * `maxRedirections` replies. Measured (test/observed-cluster.test.ts): ioredis' defaults (100 ms, 16) give
 * up after about 1 s, so a migration longer than the publisher's retries (about 6 s) failed events
 * (cluster-migration.test.ts); these values wait about 9 s per command. The same budget covers CLUSTERDOWN
 * and closed-connection retries during a failover (100 ms apart).
 */
const CLUSTER_RETRY = { retryDelayOnTryAgain: 250, maxRedirections: 64 } as const;

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
    // TLS: connect to a node by the name the cluster gave, not the address it resolves to, so the server
    // name checked against the certificate is that name (a managed cluster's certificate names hostnames,
    // and a connection by IP address fails to verify: cluster-tls.test.ts). ioredis' README gives this fix.
    ...(target.tls ? { dnsLookup: (address: string, callback: (err: null, address: string) => void) => callback(null, address) } : {}),
    ...CLUSTER_RETRY,
    ...(opts.autoPipelining ? { enableAutoPipelining: true } : {}),
    ...(role === "subscriber" ? { shardedSubscribers: true, enableReadyCheck: false } : {}),
    ...(role === "blocking" ? { enableReadyCheck: true } : {}),
  };
  return new ObservedCluster(
    target.nodes.map((n) => ({ host: n.host, port: n.port })),
    clusterOpts,
  );
}

/** True when `client` is a cluster connection. */
export function isCluster(client: RedisClient): client is Cluster {
  return client instanceof Cluster;
}
