import type { Logger } from "pino";

/** What the watch needs of an ioredis client. */
export interface WatchedRedis {
  readonly status: string;
  on(event: "ready" | "close", listener: () => void): unknown;
  on(event: "error", listener: (err: Error) => void): unknown;
}

export interface RedisOutageWatch {
  /** True while any watched connection is lost (since the first loss, until every one is ready again). */
  readonly down: boolean;
  /** Stop watching: the process is closing its connections on purpose. */
  stop(): void;
}

/**
 * Counts Redis outages, not ioredis `error` events. While Redis is unreachable ioredis emits an
 * `error` for every reconnect attempt (every 50 ms–2 s), so counting those would make
 * `redis_error` measure how long an outage lasted and how many connections the process has.
 * An outage of this process starts when any watched connection is lost or fails, and ends when
 * every watched connection is ready again: `onOutage` runs once at its start, which is logged
 * (warn) with the first error, and its end is logged (info) with its duration.
 */
export function watchRedisOutages(
  clients: readonly (readonly [name: string, client: WatchedRedis])[],
  opts: { onOutage: () => void; logger: Logger },
): RedisOutageWatch {
  const ready = new Set<string>();
  let downSince: number | undefined;
  let stopped = false;
  const lost = (name: string, reason: string) => {
    ready.delete(name);
    if (stopped) return;
    if (downSince !== undefined) {
      opts.logger.debug({ client: name, err: reason }, "redis still unreachable");
      return;
    }
    downSince = Date.now();
    opts.onOutage();
    opts.logger.warn({ client: name, err: reason }, "redis connection lost");
  };
  for (const [name, client] of clients) {
    if (client.status === "ready") ready.add(name);
    client.on("ready", () => {
      ready.add(name);
      if (stopped || downSince === undefined || ready.size < clients.length) return;
      opts.logger.info({ downMs: Date.now() - downSince }, "redis connection restored");
      downSince = undefined;
    });
    client.on("error", (err: Error) => lost(name, err.message));
    client.on("close", () => lost(name, "connection closed"));
  }
  return {
    get down() {
      return downSince !== undefined;
    },
    stop() {
      stopped = true;
    },
  };
}
