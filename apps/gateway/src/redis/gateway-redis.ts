import { watchRedisLiveness, watchRedisOutages } from "@agentcast/runtime";
import { Redis } from "ioredis";
import type { Logger } from "pino";

export interface GatewayRedisOptions {
  url: string;
  gatewayId: string;
  pingIntervalMs: number;
  pingTimeoutMs: number;
  /** Once per outage (from the first connection lost until all are ready again). */
  onOutage: () => void;
  logger: Logger;
}

/** The gateway's three Redis connections and their health watches. */
export interface GatewayRedis {
  /** Commands, scripts, history reads; also the sharded adapter's publisher. */
  readonly cmd: Redis;
  /** The sharded adapter's subscriber (SSUBSCRIBE per room). */
  readonly sub: Redis;
  /** BullMQ's queue connection (runs are queued here). */
  readonly queue: Redis;
  /** Commands and subscriptions both ready. */
  up(): boolean;
  /** Stops the health watches, then closes every connection. */
  close(): void;
}

export function createGatewayRedis(opts: GatewayRedisOptions): GatewayRedis {
  const cmd = new Redis(opts.url, { maxRetriesPerRequest: 3, enableAutoPipelining: true, connectionName: `${opts.gatewayId}:cmd` });
  // No ready check on the subscriber: the adapter queues SSUBSCRIBEs before the connection is up, and
  // ioredis's INFO ready check would then fail in subscriber mode and drop the connection.
  const sub = new Redis(opts.url, { enableReadyCheck: false, connectionName: `${opts.gatewayId}:sub` });
  const queue = new Redis(opts.url, { maxRetriesPerRequest: 3, connectionName: `${opts.gatewayId}:queue` });
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
    close() {
      outages.stop(); // the connections close on purpose from here on
      liveness.stop();
      for (const [, client] of clients) client.disconnect();
    },
  };
}
