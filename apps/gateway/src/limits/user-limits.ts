import type { Redis } from "ioredis";

/** Fixed-window counter: INCR, set the window's expiry on first use. Returns the count. */
const WINDOW_INCR = `
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return n
`;

/**
 * Limits that hold across all gateways, kept in Redis: commands per user per minute, and
 * concurrent connections per user (a sorted set of connection ids with expiry scores, refreshed by
 * each gateway, so a crashed gateway's connections lapse on their own).
 */
export class UserLimits {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly commandsPerMinute: number,
    private readonly maxConnections: number,
    private readonly connectionLeaseMs = 60_000,
  ) {
    if (typeof (redis as unknown as Record<string, unknown>).acWindowIncr !== "function") {
      redis.defineCommand("acWindowIncr", { numberOfKeys: 1, lua: WINDOW_INCR });
    }
  }

  /** 0 when the command may run, else ms until the user's window resets. */
  async takeCommand(userId: string, now = Date.now()): Promise<number> {
    const window = Math.floor(now / 60_000);
    const key = `${this.prefix}:rl:{${userId}}:${window}`;
    const n = (await (this.redis as unknown as { acWindowIncr(k: string, ttl: number): Promise<number> }).acWindowIncr(
      key,
      120_000,
    )) as number;
    return n > this.commandsPerMinute ? (window + 1) * 60_000 - now : 0;
  }

  /** Registers a connection unless the user already holds maxConnections live ones. */
  async openConnection(userId: string, connectionId: string, now = Date.now()): Promise<boolean> {
    const key = this.connectionsKey(userId);
    const res = await this.redis.multi().zremrangebyscore(key, "-inf", now).zcard(key).exec();
    const count = Number(res?.[1]?.[1] ?? 0);
    if (count >= this.maxConnections) return false;
    await this.redis
      .multi()
      .zadd(key, now + this.connectionLeaseMs, connectionId)
      .pexpire(key, this.connectionLeaseMs * 2)
      .exec();
    return true;
  }

  async closeConnection(userId: string, connectionId: string): Promise<void> {
    await this.redis.zrem(this.connectionsKey(userId), connectionId);
  }

  /** Renews the leases of this gateway's live connections (call well within connectionLeaseMs). */
  async renew(connections: Iterable<[userId: string, connectionId: string]>, now = Date.now()): Promise<void> {
    const pipe = this.redis.pipeline();
    for (const [userId, id] of connections) pipe.zadd(this.connectionsKey(userId), "XX", now + this.connectionLeaseMs, id);
    await pipe.exec();
  }

  private connectionsKey(userId: string): string {
    return `${this.prefix}:user:{${userId}}:connections`;
  }
}
