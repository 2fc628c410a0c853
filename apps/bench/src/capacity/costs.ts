/**
 * What one event and one connection cost, as measured on the bench machine: the inputs of the capacity
 * model (`model.ts`, `docs/capacity.md`). Each figure names the run it comes from; when a run moves a figure,
 * change it here and regenerate the doc (`npm run capacity -w @agentcast/bench`), or the capacity test fails.
 */
export interface MeasuredCost {
  value: number;
  unit: string;
  /** Where the figure comes from: the command and the section of docs/benchmarks.md that records it. */
  source: string;
}

export interface Costs {
  machine: string;
  /** CPU a gateway spends on an event of a room it holds (the shard message in, the subscription's bookkeeping), once per gateway holding the room. */
  gatewayUsPerEventIn: MeasuredCost;
  /** CPU a gateway spends per socket it writes an event to. */
  gatewayUsPerDelivery: MeasuredCost;
  /** Redis CPU per published event: seq, history append, run rules, task state, SPUBLISH, AOF. */
  redisUsPerEvent: MeasuredCost;
  /** Worker CPU per event of a run, outside the agent's own work (run rules, the publish call, BullMQ's share). */
  workerUsPerEvent: MeasuredCost;
  /** Gateway RSS per idle connection (socket, auth, limits, rooms), at 18k connections. */
  gatewayBytesPerConnection: MeasuredCost;
  /** A gateway process before its first connection. */
  gatewayBaseBytes: MeasuredCost;
  /** Redis memory per event kept in history. */
  redisBytesPerStoredEvent: MeasuredCost;
}

export const MEASURED: Costs = {
  machine: "2 shared vCPU AMD EPYC, 24 GB, Node 24, Redis 7 (one node, appendfsync everysec)",
  gatewayUsPerEventIn: {
    value: 40,
    unit: "µs",
    source:
      "51 µs per event delivered to one socket (`bash apps/bench/scripts/cpu-by-process.sh agentcast 10000`, docs/benchmarks.md “Where the CPU goes”) minus the per-delivery cost below",
  },
  gatewayUsPerDelivery: {
    value: 11,
    unit: "µs",
    source:
      "fan-out, 1 task, 1,000 watchers on 2 gateways, 100 events/s: gateways 112–114 % of a core for 100k deliveries/s (docs/benchmarks.md, levers table, DeliveryMeter row)",
  },
  redisUsPerEvent: {
    value: 50,
    unit: "µs",
    source: "`cpu-by-process.sh agentcast 10000`, Redis column (docs/benchmarks.md “Where the CPU goes”)",
  },
  workerUsPerEvent: {
    value: 61,
    unit: "µs",
    source:
      "`npm exec -- node apps/bench/scripts/e2e-worker.mjs` (200 clients, runs of 40 tool calls, DEMO_STEP_MS=0): worker CPU per delivered event, 56–70 µs over 3 runs (docs/benchmarks.md “End to end through the worker”)",
  },
  gatewayBytesPerConnection: {
    value: 23.6 * 1024,
    unit: "B",
    source: "`npm run bench -- --only idle` at 18k connections (docs/benchmarks.md “Idle connections”)",
  },
  gatewayBaseBytes: {
    value: 100 * 1024 * 1024,
    unit: "B",
    source: "gateway RSS after start, before connections (the soak's first sample: 103 MB, issue 18)",
  },
  redisBytesPerStoredEvent: {
    value: 298,
    unit: "B",
    source: "`npm exec -- node apps/bench/scripts/history-bytes.mjs` (40-character deltas, a tool call every 20 events)",
  },
};
