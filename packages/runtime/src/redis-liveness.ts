import type { Logger } from "pino";

/** What the watch needs of an ioredis client. */
export interface PingableRedis {
  readonly status: string;
  ping(): Promise<unknown>;
  /** ioredis: close the connection; with `true`, reconnect as after a network error. */
  disconnect(reconnect?: boolean): void;
}

export interface RedisLivenessOptions {
  intervalMs: number;
  timeoutMs: number;
  logger: Logger;
  /** Called once per connection found unresponsive (before it is torn down and reconnected). */
  onUnresponsive?: (name: string) => void;
}

export interface RedisLivenessWatch {
  stop(): void;
}

/**
 * Finds connections that look healthy but are not: behind a network blackhole (packets dropped, no
 * RST) a TCP connection stays "ready" for hours and every command — or, on a subscriber, every
 * message — silently waits. Each ready connection is PINGed every `intervalMs`; one that does not
 * answer within `timeoutMs` is disconnected and reconnected, which the rest of the process treats
 * like any lost connection (readiness drops, subscriptions are re-made and resynced from history).
 * PING is valid on a subscriber connection too.
 */
export function watchRedisLiveness(
  clients: readonly (readonly [name: string, client: PingableRedis])[],
  opts: RedisLivenessOptions,
): RedisLivenessWatch {
  const inFlight = new Set<string>();
  const check = (name: string, client: PingableRedis) => {
    if (client.status !== "ready" || inFlight.has(name)) return;
    inFlight.add(name);
    let settled = false;
    const timer = setTimeout(() => {
      if (settled) return;
      settled = true;
      inFlight.delete(name);
      opts.logger.warn({ client: name, timeoutMs: opts.timeoutMs }, "redis connection unresponsive; reconnecting");
      opts.onUnresponsive?.(name);
      client.disconnect(true);
    }, opts.timeoutMs);
    timer.unref();
    client.ping().then(
      () => {
        settled = true;
        clearTimeout(timer);
        inFlight.delete(name);
      },
      () => {
        // An error reply or a closed connection: ioredis reports and reconnects on its own.
        settled = true;
        clearTimeout(timer);
        inFlight.delete(name);
      },
    );
  };
  const interval = setInterval(() => {
    for (const [name, client] of clients) check(name, client);
  }, opts.intervalMs);
  interval.unref();
  return {
    stop() {
      clearInterval(interval);
    },
  };
}
