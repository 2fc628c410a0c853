import type { Costs } from "./costs.js";

/** What a deployment is built from, and how hard each part is run. */
export interface Shape {
  /** A gateway pod: one Node process (one core) and its memory limit (k8s/base: 1 CPU, 512 MiB). */
  gatewayCores: number;
  gatewayMemoryBytes: number;
  /** A worker pod: one Node process (k8s/base: 1 CPU). */
  workerCores: number;
  /** A Redis master: one core for commands (Redis runs them on one thread), and the memory it may fill. */
  redisMemoryBytes: number;
  /** The share of a core each process is planned to use: the rest absorbs a reconnect storm, a failover, a burst. */
  targetUtilisation: number;
  /** Of a gateway's memory, the share planned for connections (the rest: buffers of slow readers, replays, GC headroom). */
  memoryForConnections: number;
}

export const DEFAULT_SHAPE: Shape = {
  gatewayCores: 1,
  gatewayMemoryBytes: 512 * 1024 * 1024,
  workerCores: 1,
  redisMemoryBytes: 25 * 1024 ** 3,
  targetUtilisation: 0.6,
  memoryForConnections: 0.7,
};

/** The load a plan is for. */
export interface Load {
  /** Concurrent client connections. */
  connections: number;
  /** Events published per second (all tasks). */
  eventsPerSec: number;
  /** Sockets each event is written to (a user with two tabs open: 2). */
  deliveriesPerEvent: number;
  /** Gateways that hold a room an event goes to (its viewers spread over pods by the balancer). */
  gatewaysPerEvent: number;
  /** How long an event stays in history (HISTORY_TTL_SECONDS after a task's last activity bounds it). */
  historyRetentionSec: number;
}

export interface Plan {
  gatewayPods: number;
  /** Which bound set the gateway count. */
  gatewayBound: "connections" | "cpu";
  redisMasters: number;
  redisBound: "cpu" | "memory";
  workerPods: number;
  gatewayMemoryGiB: number;
  redisHistoryGiB: number;
  /** Cores across gateways, Redis masters and workers. */
  totalCores: number;
}

const GiB = 1024 ** 3;

/** The pods, masters and memory a load needs, from the measured costs: each part sized by its tighter bound. */
export function plan(costs: Costs, load: Load, shape: Shape = DEFAULT_SHAPE): Plan {
  const coreUs = 1e6 * shape.targetUtilisation; // µs of CPU one core gives per second at the target
  const connectionsPerGateway = Math.floor(
    (shape.gatewayMemoryBytes * shape.memoryForConnections - costs.gatewayBaseBytes.value) / costs.gatewayBytesPerConnection.value,
  );
  const gatewayUs =
    load.eventsPerSec *
    (load.gatewaysPerEvent * costs.gatewayUsPerEventIn.value + load.deliveriesPerEvent * costs.gatewayUsPerDelivery.value);
  const byConnections = Math.ceil(load.connections / connectionsPerGateway);
  const byGatewayCpu = Math.ceil(gatewayUs / (coreUs * shape.gatewayCores));
  const gatewayPods = Math.max(byConnections, byGatewayCpu, 2);

  const historyBytes = load.eventsPerSec * load.historyRetentionSec * costs.redisBytesPerStoredEvent.value;
  const byRedisCpu = Math.ceil((load.eventsPerSec * costs.redisUsPerEvent.value) / coreUs);
  const byRedisMemory = Math.ceil(historyBytes / shape.redisMemoryBytes);
  const redisMasters = Math.max(byRedisCpu, byRedisMemory, 1);

  const workerPods = Math.max(Math.ceil((load.eventsPerSec * costs.workerUsPerEvent.value) / (coreUs * shape.workerCores)), 1);
  return {
    gatewayPods,
    gatewayBound: byConnections >= byGatewayCpu ? "connections" : "cpu",
    redisMasters,
    redisBound: byRedisCpu >= byRedisMemory ? "cpu" : "memory",
    workerPods,
    gatewayMemoryGiB: (gatewayPods * shape.gatewayMemoryBytes) / GiB,
    redisHistoryGiB: historyBytes / GiB,
    totalCores: gatewayPods * shape.gatewayCores + redisMasters + workerPods * shape.workerCores,
  };
}

export const CONNECTIONS = [100_000, 1_000_000, 10_000_000] as const;
export const EVENT_RATES = [10_000, 100_000, 1_000_000] as const;

/** The load of the doc's tables: each event to one socket on one gateway, history kept for an hour. */
export const TABLE_LOAD: Omit<Load, "connections" | "eventsPerSec"> = {
  deliveriesPerEvent: 1,
  gatewaysPerEvent: 1,
  historyRetentionSec: 3_600,
};

const fmt = (n: number) => n.toLocaleString("en-US", { maximumFractionDigits: n < 10 ? 1 : 0 });
const label = (n: number) => (n >= 1_000_000 ? `${n / 1_000_000}M` : `${n / 1_000}k`);

/** The tables of `docs/capacity.md` between its generated markers: one row per connections × events/s. */
export function renderTables(costs: Costs, shape: Shape = DEFAULT_SHAPE): string {
  const lines = [
    `Inputs (${costs.machine}): gateway ${costs.gatewayUsPerEventIn.value} µs per event in + ${costs.gatewayUsPerDelivery.value} µs per delivery, ` +
      `Redis ${costs.redisUsPerEvent.value} µs per event, worker ${costs.workerUsPerEvent.value} µs per event, ` +
      `${fmt(costs.gatewayBytesPerConnection.value / 1024)} KiB per connection, ${costs.redisBytesPerStoredEvent.value} B per stored event. ` +
      `Shape: gateway pods of ${shape.gatewayCores} core and ${fmt(shape.gatewayMemoryBytes / 1024 ** 2)} MiB, workers of ${shape.workerCores} core, ` +
      `Redis masters of one core and ${fmt(shape.redisMemoryBytes / GiB)} GiB, every process planned at ${shape.targetUtilisation * 100} % of its core. ` +
      `Load: each event to ${TABLE_LOAD.deliveriesPerEvent} socket on ${TABLE_LOAD.gatewaysPerEvent} gateway, history kept ${TABLE_LOAD.historyRetentionSec / 3600} h.`,
    "",
    "| connections | events/s | gateway pods (bound) | Redis masters (bound) | worker pods | gateway memory GiB | history GiB | cores |",
    "| --- | --- | --- | --- | --- | --- | --- | --- |",
  ];
  for (const connections of CONNECTIONS) {
    for (const eventsPerSec of EVENT_RATES) {
      const p = plan(costs, { connections, eventsPerSec, ...TABLE_LOAD }, shape);
      lines.push(
        `| ${label(connections)} | ${label(eventsPerSec)} | ${fmt(p.gatewayPods)} (${p.gatewayBound}) | ${fmt(p.redisMasters)} (${p.redisBound}) | ` +
          `${fmt(p.workerPods)} | ${fmt(p.gatewayMemoryGiB)} | ${fmt(p.redisHistoryGiB)} | ${fmt(p.totalCores)} |`,
      );
    }
  }
  return lines.join("\n");
}

export const BEGIN_MARKER = "<!-- capacity:begin (generated by `npm run capacity -w @agentcast/bench`; do not edit) -->";
export const END_MARKER = "<!-- capacity:end -->";
