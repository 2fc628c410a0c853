import type { RedisClient } from "@agentcast/store";
import type { Logger } from "pino";

export interface GatewayBeat {
  gatewayId: string;
  connections: number;
  rooms: number;
  startedAt: number;
  seenAt: number;
}

/**
 * Each gateway writes a heartbeat into one Redis hash every `intervalMs`; `list()` returns the
 * gateways seen within three intervals (and forgets the others), the calling gateway with its
 * numbers as of now. Feeds GET /v1/stats: other gateways' numbers are up to `intervalMs` old.
 */
export class GatewayRegistry {
  private timer: NodeJS.Timeout | undefined;
  private readonly startedAt = Date.now();

  constructor(
    private readonly redis: RedisClient,
    private readonly key: string,
    private readonly gatewayId: string,
    private readonly sample: () => { connections: number; rooms: number },
    private readonly intervalMs: number,
    private readonly logger: Logger,
  ) {}

  start(): void {
    void this.beat();
    this.timer = setInterval(() => void this.beat(), this.intervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.redis.hdel(this.key, this.gatewayId).catch(() => {});
  }

  async list(): Promise<GatewayBeat[]> {
    const all = await this.redis.hgetall(this.key);
    const cutoff = Date.now() - 3 * this.intervalMs;
    const live: GatewayBeat[] = [];
    const stale: string[] = [];
    for (const [id, raw] of Object.entries(all)) {
      // This gateway's own numbers are read now, not from its last heartbeat.
      const beat = id === this.gatewayId ? this.current() : (JSON.parse(raw) as GatewayBeat);
      if (beat.seenAt >= cutoff) live.push(beat);
      else stale.push(id);
    }
    if (stale.length > 0) await this.redis.hdel(this.key, ...stale);
    return live.sort((a, b) => a.gatewayId.localeCompare(b.gatewayId));
  }

  private current(): GatewayBeat {
    return { gatewayId: this.gatewayId, ...this.sample(), startedAt: this.startedAt, seenAt: Date.now() };
  }

  private async beat(): Promise<void> {
    await this.redis
      .hset(this.key, this.gatewayId, JSON.stringify(this.current()))
      .catch((err: unknown) => this.logger.debug({ err }, "heartbeat failed"));
  }
}
