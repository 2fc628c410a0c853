import type { EventType } from "@agentcast/protocol";
import type { Counter, Registry } from "prom-client";

export const DELIVERY_LAG_BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5] as const;

/**
 * Per-delivery metrics counted in plain numbers on the hot path — a fan-out writes one event to
 * thousands of sockets, and prom-client hashes the labels of every `inc` / `observe` — then added
 * to the registry at scrape time. The exported values are exactly those of one `inc` / `observe`
 * per delivery: `agentcast_gateway_events_delivered_total{type}`, `…_events_replayed_total` and the
 * `agentcast_gateway_delivery_lag_seconds` histogram (`test/metrics-amounts.test.ts`).
 */
export class DeliveryMeter {
  private readonly pending = new Map<EventType, number>();
  private replayedPending = 0;
  /** Non-cumulative: lagCounts[i] = observations in (bounds[i-1], bounds[i]]; the last slot is +Inf. */
  private readonly lagCounts = new Float64Array(DELIVERY_LAG_BUCKETS.length + 1);
  private lagSum = 0;
  private lagCount = 0;

  constructor(
    private readonly delivered: Counter<"type">,
    private readonly replayed: Counter,
  ) {}

  /** One event written to one socket; `lagSeconds` for live deliveries. */
  count(type: EventType, replayed: boolean, lagSeconds?: number): void {
    this.pending.set(type, (this.pending.get(type) ?? 0) + 1);
    if (replayed) this.replayedPending++;
    if (lagSeconds === undefined) return;
    let i = 0;
    while (i < DELIVERY_LAG_BUCKETS.length && lagSeconds > (DELIVERY_LAG_BUCKETS[i] as number)) i++;
    this.lagCounts[i] = (this.lagCounts[i] as number) + 1;
    this.lagSum += lagSeconds;
    this.lagCount++;
  }

  /** Moves the counts into the counters (called from their `collect`, i.e. at each scrape). */
  flushCounters(): void {
    for (const [type, n] of this.pending) if (n > 0) this.delivered.inc({ type }, n);
    this.pending.clear();
    if (this.replayedPending > 0) this.replayed.inc(this.replayedPending);
    this.replayedPending = 0;
  }

  /** Registers `agentcast_gateway_delivery_lag_seconds`, a histogram read from these counts. */
  registerLagHistogram(registry: Registry, name: string, help: string): void {
    const meter = this;
    registry.registerMetric({
      name,
      help,
      async get() {
        let cumulative = 0;
        const values: { metricName: string; labels: Record<string, string | number>; value: number }[] = DELIVERY_LAG_BUCKETS.map(
          (le, i) => {
            cumulative += meter.lagCounts[i] as number;
            return { metricName: `${name}_bucket`, labels: { le }, value: cumulative };
          },
        );
        values.push({ metricName: `${name}_bucket`, labels: { le: "+Inf" }, value: meter.lagCount });
        return {
          name,
          help,
          type: "histogram",
          aggregator: "sum",
          values: [
            ...values,
            { metricName: `${name}_sum`, labels: {}, value: meter.lagSum },
            { metricName: `${name}_count`, labels: {}, value: meter.lagCount },
          ],
        };
      },
      reset() {
        meter.lagCounts.fill(0);
        meter.lagSum = 0;
        meter.lagCount = 0;
      },
    } as unknown as Parameters<Registry["registerMetric"]>[0]);
  }
}
