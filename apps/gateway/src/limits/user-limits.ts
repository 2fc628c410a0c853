import { type RedisClient, type ScriptedRedis, withLuaScripts } from "@agentcast/store";

const WINDOW_MS = 60_000;

let takeSeq = 0;

/**
 * Limits that hold across all gateways, kept in Redis: commands per user per minute, and
 * concurrent connections per user (a sorted set of connection ids with expiry scores, refreshed by
 * each gateway, so a crashed gateway's connections lapse on their own).
 */
export class UserLimits {
  private readonly redis: ScriptedRedis;
  constructor(
    redis: RedisClient,
    private readonly prefix: string,
    private readonly commandsPerMinute: number,
    private readonly maxConnections: number,
    private readonly connectionLeaseMs = 60_000,
  ) {
    this.redis = withLuaScripts(redis);
  }

  /** 0 when the command may run, else ms until the user may send the next one. */
  async takeCommand(userId: string): Promise<number> {
    const key = `${this.prefix}:rl:{${userId}}`;
    const entry = `${process.pid}:${++takeSeq}:${Math.random().toString(36).slice(2, 8)}`;
    // Sliding log (lua/sliding-take-1.lua), timed by Redis's clock so every gateway agrees.
    return Number(await this.redis.acSlidingTake(key, WINDOW_MS, this.commandsPerMinute, entry));
  }

  /** Registers a connection unless the user already holds maxConnections live ones. */
  async openConnection(userId: string, connectionId: string, now = Date.now()): Promise<boolean> {
    // One atomic step (lua/open-connection-1.lua): two gateways cannot both take the last place.
    const opened = await this.redis.acOpenConnection(
      this.connectionsKey(userId),
      now,
      this.connectionLeaseMs,
      this.maxConnections,
      connectionId,
    );
    return Number(opened) === 1;
  }

  async closeConnection(userId: string, connectionId: string): Promise<void> {
    await this.redis.zrem(this.connectionsKey(userId), connectionId);
  }

  /**
   * Renews the leases of this gateway's live connections, and each user's key with them
   * (lua/renew-connection-1.lua; call well within connectionLeaseMs). Resolves with how many held a lease.
   */
  async renew(connections: Iterable<[userId: string, connectionId: string]>, now = Date.now()): Promise<number> {
    // One script per connection, not one pipeline: on a cluster each user's key lives on its own slot. The
    // command connection batches them (auto-pipelining), per node on a cluster.
    const renewed = await Promise.all(
      [...connections].map(([userId, id]) => this.redis.acRenewConnection(this.connectionsKey(userId), now, this.connectionLeaseMs, id)),
    );
    return renewed.filter((r) => Number(r) === 1).length;
  }

  private connectionsKey(userId: string): string {
    return `${this.prefix}:user:{${userId}}:connections`;
  }
}
