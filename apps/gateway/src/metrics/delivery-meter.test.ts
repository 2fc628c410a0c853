import { Counter, Histogram, Registry } from "prom-client";
import { describe, expect, it } from "vitest";
import { DELIVERY_LAG_BUCKETS, DeliveryMeter } from "./delivery-meter.js";

const NAME = "agentcast_gateway_delivery_lag_seconds";

function meterOn(registry: Registry): DeliveryMeter {
  const delivered: Counter<"type"> = new Counter({
    name: "delivered_total",
    help: "d",
    labelNames: ["type"],
    registers: [registry],
    collect: (): void => meter.flushCounters(),
  });
  const replayed: Counter = new Counter({
    name: "replayed_total",
    help: "r",
    registers: [registry],
    collect: (): void => meter.flushCounters(),
  });
  const meter: DeliveryMeter = new DeliveryMeter(delivered, replayed);
  meter.registerLagHistogram(registry, NAME, "lag");
  return meter;
}

describe("DeliveryMeter (per-delivery counts added to the registry at scrape time)", () => {
  it("exports exactly what prom-client would after one inc / observe per delivery", async () => {
    const ours = new Registry();
    const meter = meterOn(ours);
    const stock = new Registry();
    const delivered = new Counter({ name: "delivered_total", help: "d", labelNames: ["type"], registers: [stock] });
    const replayed = new Counter({ name: "replayed_total", help: "r", registers: [stock] });
    const lag = new Histogram({ name: NAME, help: "lag", buckets: [...DELIVERY_LAG_BUCKETS], registers: [stock] });
    // Values on, between and beyond the bucket bounds, live and replayed, two event types.
    const lags = [0, 0.001, 0.0011, 0.005, 0.02, 0.05, 0.3, 1, 2.5, 4.99, 5, 7, 120];
    for (const [i, v] of lags.entries()) {
      const type = i % 2 ? "agent_output" : "tool_executing";
      meter.count(type, false, v);
      delivered.inc({ type });
      lag.observe(v);
    }
    for (let i = 0; i < 3; i++) {
      meter.count("agent_started", true);
      delivered.inc({ type: "agent_started" });
      replayed.inc();
    }
    expect(await ours.metrics()).toBe(await stock.metrics());
    // A second scrape adds nothing new.
    expect(await ours.metrics()).toBe(await stock.metrics());
    meter.count("agent_output", false, 0.2);
    delivered.inc({ type: "agent_output" });
    lag.observe(0.2);
    expect(await ours.metrics()).toBe(await stock.metrics());
  });
});
