import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { MEASURED } from "../src/capacity/costs.js";
import {
  BEGIN_MARKER,
  CONNECTIONS,
  DEFAULT_SHAPE,
  END_MARKER,
  EVENT_RATES,
  plan,
  renderTables,
  TABLE_LOAD,
} from "../src/capacity/model.js";

const root = resolve(import.meta.dirname, "../../..");
const read = (path: string) => readFileSync(resolve(root, path), "utf8");

describe("capacity model", () => {
  it("docs/capacity.md holds exactly the tables the model computes from the measured costs", () => {
    const doc = read("docs/capacity.md");
    const start = doc.indexOf(BEGIN_MARKER);
    const end = doc.indexOf(END_MARKER);
    expect(start).toBeGreaterThanOrEqual(0);
    expect(end).toBeGreaterThan(start);
    // Regenerate with `npm run build && npm run capacity -w @agentcast/bench -- --write` when a cost moves.
    expect(doc.slice(start + BEGIN_MARKER.length, end).trim()).toBe(renderTables(MEASURED));
  });

  it("one cell by hand: 1M connections, 100k events/s", () => {
    const p = plan(MEASURED, { connections: 1_000_000, eventsPerSec: 100_000, ...TABLE_LOAD });
    // 512 MiB × 0.7 − 100 MiB = 258.4 MiB for connections at 23.6 KiB each → 11,211 per pod → 90 pods; CPU:
    // 100k × (40 + 11) µs = 5.1 cores at 60 % → 9 pods. Connections bound.
    const perPod = Math.floor(((512 * 0.7 - 100) * 1024 ** 2) / (23.6 * 1024));
    expect(perPod).toBe(11_211);
    expect(p.gatewayPods).toBe(Math.ceil(1_000_000 / perPod));
    expect(p.gatewayBound).toBe("connections");
    // Redis: 100k × 50 µs = 5 cores at 60 % → 9 masters; history 100k × 3,600 × 298 B ≈ 100 GiB → 4 by memory.
    expect(p.redisMasters).toBe(9);
    expect(p.redisBound).toBe("cpu");
    // Workers: 100k × 61 µs = 6.1 cores at 60 % → 11.
    expect(p.workerPods).toBe(11);
  });

  it("never plans fewer of anything for more load, and each count covers both of its bounds", () => {
    for (const connections of CONNECTIONS)
      for (const eventsPerSec of EVENT_RATES) {
        const p = plan(MEASURED, { connections, eventsPerSec, ...TABLE_LOAD });
        const more = plan(MEASURED, { connections: connections * 2, eventsPerSec: eventsPerSec * 2, ...TABLE_LOAD });
        expect(more.gatewayPods).toBeGreaterThanOrEqual(p.gatewayPods);
        expect(more.redisMasters).toBeGreaterThanOrEqual(p.redisMasters);
        expect(more.workerPods).toBeGreaterThanOrEqual(p.workerPods);
        const coreUs = 1e6 * DEFAULT_SHAPE.targetUtilisation;
        expect(p.gatewayPods * coreUs).toBeGreaterThanOrEqual(
          eventsPerSec * (MEASURED.gatewayUsPerEventIn.value + MEASURED.gatewayUsPerDelivery.value),
        );
        expect(p.redisMasters * coreUs).toBeGreaterThanOrEqual(eventsPerSec * MEASURED.redisUsPerEvent.value);
        expect(p.redisMasters * DEFAULT_SHAPE.redisMemoryBytes).toBeGreaterThanOrEqual(p.redisHistoryGiB * 1024 ** 3);
      }
  });

  it("a cost that moves moves the plan: twice the RSS per connection, about twice the gateways", () => {
    const load = { connections: 10_000_000, eventsPerSec: 10_000, ...TABLE_LOAD };
    const heavier = {
      ...MEASURED,
      gatewayBytesPerConnection: { ...MEASURED.gatewayBytesPerConnection, value: MEASURED.gatewayBytesPerConnection.value * 2 },
    };
    const ratio = plan(heavier, load).gatewayPods / plan(MEASURED, load).gatewayPods;
    expect(ratio).toBeGreaterThan(1.9);
    expect(ratio).toBeLessThan(2.1);
  });

  it("every cost names a source, and the benchmark sections it cites exist", () => {
    const benchmarks = read("docs/benchmarks.md");
    for (const [name, cost] of Object.entries(MEASURED)) {
      if (typeof cost === "string") continue;
      expect({ name, source: cost.source.length > 20 }).toEqual({ name, source: true });
      for (const section of cost.source.matchAll(/“([^”]+)”/g))
        expect({ name, section: benchmarks.includes(`## ${section[1]}`) || benchmarks.includes(`### ${section[1]}`) }).toEqual({
          name,
          section: true,
        });
    }
  });
});
