import type { Redis } from "ioredis";

/**
 * Sliding log: at most ARGV[2] entries in any window of ARGV[1] ms, timed by Redis's clock so every
 * gateway agrees. Returns 0 when taken, else ms until the oldest entry leaves the window. (A fixed
 * per-minute window would let a user spend two budgets across a minute boundary.)
 */
const SLIDING_TAKE = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local window = tonumber(ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[2]) then
  local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
  return math.max(1, tonumber(oldest[2]) + window - now)
end
redis.call('ZADD', KEYS[1], now, ARGV[3])
redis.call('PEXPIRE', KEYS[1], window)
return 0
`;

/**
 * Registers a connection unless the user already holds ARGV[3] live ones (leases not yet expired),
 * in one atomic step: two gateways accepting the same user at once cannot both take the last place.
 * KEYS[1]: the user's connections (id → lease expiry). ARGV: nowMs, leaseMs, max, connectionId.
 * Returns 1 when registered, 0 when the user is at the cap.
 */
const OPEN_CONNECTION = `
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[3]) then return 0 end
redis.call('ZADD', KEYS[1], tonumber(ARGV[1]) + tonumber(ARGV[2]), ARGV[4])
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[2]) * 2)
return 1
`;

const WINDOW_MS = 60_000;
let takeSeq = 0;

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
    for (const [name, lua] of [
      ["acSlidingTake", SLIDING_TAKE],
      ["acOpenConnection", OPEN_CONNECTION],
    ] as const) {
      if (typeof (redis as unknown as Record<string, unknown>)[name] !== "function") redis.defineCommand(name, { numberOfKeys: 1, lua });
    }
  }

  /** 0 when the command may run, else ms until the user may send the next one. */
  async takeCommand(userId: string): Promise<number> {
    const key = `${this.prefix}:rl:{${userId}}`;
    const entry = `${process.pid}:${++takeSeq}:${Math.random().toString(36).slice(2, 8)}`;
    const take = (this.redis as unknown as { acSlidingTake(k: string, w: number, n: number, e: string): Promise<number> }).acSlidingTake;
    return Number(await take.call(this.redis, key, WINDOW_MS, this.commandsPerMinute, entry));
  }

  /** Registers a connection unless the user already holds maxConnections live ones. */
  async openConnection(userId: string, connectionId: string, now = Date.now()): Promise<boolean> {
    const open = (
      this.redis as unknown as { acOpenConnection(k: string, now: number, lease: number, max: number, id: string): Promise<number> }
    ).acOpenConnection;
    return (await open.call(this.redis, this.connectionsKey(userId), now, this.connectionLeaseMs, this.maxConnections, connectionId)) === 1;
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
