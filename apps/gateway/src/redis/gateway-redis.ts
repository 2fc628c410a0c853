import { watchRedisLiveness, watchRedisOutages } from "@agentcast/runtime";
import { connectRedis, isCluster, type RedisClient, type RedisTarget } from "@agentcast/store";
import type { Logger } from "pino";

export interface GatewayRedisOptions {
  target: RedisTarget;
  gatewayId: string;
  pingIntervalMs: number;
  pingTimeoutMs: number;
  /** Once per outage (from the first connection lost until all are ready again). */
  onOutage: () => void;
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
  /** Commands and subscriptions both ready. */
  up(): boolean;
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
  const liveness = watchRedisLiveness(clients, { intervalMs: opts.pingIntervalMs, timeoutMs: opts.pingTimeoutMs, logger: opts.logger });
  return {
    cmd,
    sub,
    queue,
    up: () => cmd.status === "ready" && sub.status === "ready",
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
      for (const [, client] of clients) client.disconnect();
    },
  };
}
