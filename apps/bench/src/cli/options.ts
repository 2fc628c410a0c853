import type { SystemName } from "../systems/system.js";

export const SCENARIOS = ["sweep", "idle", "isolation", "storm", "fanout", "llm"] as const;
export type ScenarioName = (typeof SCENARIOS)[number];

export interface BenchOptions {
  quick: boolean;
  /**
   * `single`: every system on one Redis node. `cluster`: also agentcast on a local Redis Cluster (3 masters
   * + 3 replicas), next to agentcast on one node in the same run (sweep and isolation by default).
   */
  redis: "single" | "cluster";
  /** With `redis: "cluster"`: seeds of a running cluster to use (env REDIS_CLUSTER_NODES, loopback only) instead of starting one. */
  clusterNodes?: string;
  scenarios: ScenarioName[];
  systems: SystemName[];
  sweep: { rates: number[]; durationMs: number; clients: number; drainMs: number };
  idle: { counts: number[]; clientProcesses: number };
  isolation: { gateways: number; clients: number; rate: number; durationMs: number };
  storm: { clients: number; tasks: number; rate: number; durationMs: number; killAfterMs: number; jitterMs: number };
  fanout: { watchers: number; rate: number; durationMs: number };
  /** LLM token streams: concurrent streams per step, tokens per stream, tokens/s per stream, the p99 a step must meet. */
  llm: { streams: number[]; tokens: number; rate: number; p99LimitMs: number };
  /** Directory for the JSON results ("" = none). */
  outDir: string;
}

export function defaultOptions(quick: boolean): BenchOptions {
  if (quick)
    return {
      quick,
      redis: "single",
      scenarios: [...SCENARIOS],
      systems: ["ws", "socketio", "agentcast"],
      sweep: { rates: [2_000, 5_000], durationMs: 2_000, clients: 200, drainMs: 5_000 },
      idle: { counts: [1_000], clientProcesses: 2 },
      isolation: { gateways: 4, clients: 200, rate: 1_000, durationMs: 2_000 },
      storm: { clients: 500, tasks: 100, rate: 500, durationMs: 6_000, killAfterMs: 2_000, jitterMs: 500 },
      fanout: { watchers: 200, rate: 50, durationMs: 2_000 },
      llm: { streams: [50, 200], tokens: 300, rate: 100, p99LimitMs: 150 },
      outDir: "bench-results",
    };
  return {
    quick,
    redis: "single",
    scenarios: [...SCENARIOS],
    systems: ["ws", "socketio", "agentcast"],
    sweep: { rates: [5_000, 10_000, 20_000, 40_000, 80_000], durationMs: 5_000, clients: 1_000, drainMs: 15_000 },
    idle: { counts: [10_000, 18_000], clientProcesses: 4 },
    isolation: { gateways: 4, clients: 1_000, rate: 5_000, durationMs: 5_000 },
    storm: { clients: 5_000, tasks: 1_000, rate: 2_000, durationMs: 15_000, killAfterMs: 5_000, jitterMs: 1_000 },
    fanout: { watchers: 1_000, rate: 100, durationMs: 5_000 },
    llm: { streams: [50, 100, 200, 300, 400, 600, 800, 1_000], tokens: 1_000, rate: 100, p99LimitMs: 150 },
    outDir: "bench-results",
  };
}
