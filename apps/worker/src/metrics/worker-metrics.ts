import { Counter, collectDefaultMetrics, Registry } from "prom-client";

/** Worker metrics on an explicit registry (the observability issue extends this set). */
export function createWorkerMetrics(workerId: string) {
  const registry = new Registry();
  registry.setDefaultLabels({ worker_id: workerId });
  collectDefaultMetrics({ register: registry });
  return {
    registry,
    runs: new Counter({
      name: "agentcast_worker_runs_total",
      help: "Runs ended, by status",
      labelNames: ["status"] as const,
      registers: [registry],
    }),
    eventsPublished: new Counter({
      name: "agentcast_worker_events_published_total",
      help: "Agent events published, by type",
      labelNames: ["type"] as const,
      registers: [registry],
    }),
  };
}
