import { watchRedisLiveness, watchRedisOutages } from "@agentcast/runtime";
import {
  type ClusterHealth,
  type ClusterObserver,
  connectRedis,
  isCluster,
  type RedisClient,
  type RedisTarget,
  watchRedisCluster,
} from "@agentcast/store";
import type { Logger } from "pino";

export interface GatewayRedisOptions {
  target: RedisTarget;
  gatewayId: string;
  pingIntervalMs: number;
  pingTimeoutMs: number;
  /** Once per outage (from the first connection lost until all are ready again). */
  onOutage: () => void;
  /** On a cluster: topology changes, redirections and node errors seen (the gateway's metrics). */
  cluster: ClusterObserver;
  logger: Logger;
}

/** The gateway's three Redis connections (to one node or a cluster) and their health watches. */
export interface GatewayRedis {
  /** Commands, scripts, history reads; also the sharded adapter's publisher. */
  readonly cmd: RedisClient;
  /** The sharded adapter's subscriber (SSUBSCRIBE per room, on the node that owns the room's slot). */
  readonly sub: RedisClient;
  /** BullMQ's queue connection (runs are queued here). */
  readonly queue: RedisClient;
  /**
   * Whether this gateway can serve: commands and subscriptions connected and, on a cluster, every master
   * that serves slots answering its probe within REDIS_PING_TIMEOUT_MS with `cluster_state:ok`.
   */
  up(): boolean;
  /** Why `up()` is false (for /readyz); undefined when it is true. */
  problem(): string | undefined;
  /** On a cluster: masters serving slots, reachable or not at the latest probe; undefined on one node. */
  clusterNodes(): Pick<ClusterHealth, "reachable" | "unreachable"> | undefined;
  /**
   * Calls `resync` whenever live messages may have been missed: the subscriber reconnected (one node), or a
   * cluster's sharded subscribers were moved to new owners (failover, slot migration, a node back).
   */
  onSubscriptionsMoved(resync: () => void): void;
  /** Stops the health watches, then closes every connection. */
  close(): void;
}

export function createGatewayRedis(opts: GatewayRedisOptions): GatewayRedis {
  const name = (role: string) => `${opts.gatewayId}:${role}`;
  const cmd = connectRedis(opts.target, "commands", { name: name("cmd"), autoPipelining: true });
  const sub = connectRedis(opts.target, "subscriber", { name: name("sub") });
  const queue = connectRedis(opts.target, "commands", { name: name("queue") });
  const clients = [
    ["cmd", cmd],
    ["sub", sub],
    ["queue", queue],
  ] as const;
  const outages = watchRedisOutages(clients, { onOutage: opts.onOutage, logger: opts.logger });
  // A blackholed connection stays "ready" for hours: PING each one, reconnect those that do not answer.
  // On a cluster the probe of every master below does this job, node by node.
  const liveness = watchRedisLiveness(opts.target.mode === "single" ? clients : [], {
    intervalMs: opts.pingIntervalMs,
    timeoutMs: opts.pingTimeoutMs,
    logger: opts.logger,
  });
  // On a cluster a paused or blackholed master raises no error either: probe each one (readiness, metrics).
  const cluster = watchRedisCluster(clients, {
    probeIntervalMs: opts.pingIntervalMs,
    probeTimeoutMs: opts.pingTimeoutMs,
    observer: opts.cluster,
    logger: opts.logger,
  });
  const problem = () => {
    if (cmd.status !== "ready") return `commands connection ${cmd.status}`;
    if (sub.status !== "ready") return `subscriber connection ${sub.status}`;
    return cluster?.health().problem;
  };
  return {
    cmd,
    sub,
    queue,
    up: () => problem() === undefined,
    problem,
    clusterNodes: () => cluster?.health(),
    onSubscriptionsMoved(resync) {
      if (isCluster(sub)) {
        sub.on("subscribersReady", () => {
          opts.logger.info("sharded subscribers moved to the slots' current owners: resyncing subscriptions from history");
          resync();
        });
        return;
      }
      let readyBefore = sub.status === "ready";
      sub.on("ready", () => {
        if (readyBefore) resync();
        readyBefore = true;
      });
    },
    close() {
      outages.stop(); // the connections close on purpose from here on
      liveness.stop();
      cluster?.stop();
      for (const [, client] of clients) client.disconnect();
    },
  };
}
