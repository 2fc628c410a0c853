import { createRedisClusterMetrics, createSilentFailureCounter, type RedisClusterNodeCounts, withTimeout } from "@agentcast/runtime";
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";

/** A scrape waits this long for the queue counts (a silent Redis node would hold it forever); then the last values stay. */
const QUEUE_COUNTS_TIMEOUT_MS = 2_000;

/** BullMQ job states reported by agentcast_queue_jobs. */
export const QUEUE_STATES = ["waiting", "active", "delayed", "prioritized", "waiting-children", "paused", "completed", "failed"] as const;

/**
 * Worker metrics on an explicit registry. `tool` labels are bounded by the agent's registered
 * tools (anything else is "other"); queue counts are read from BullMQ at scrape time.
 */
export function createWorkerMetrics(
  workerId: string,
  queueCounts: () => Promise<Record<string, number>>,
  /** On a Redis Cluster: masters serving slots this worker reached at its latest probe, and those it did not. */
  redisClusterNodes: () => RedisClusterNodeCounts | undefined = () => undefined,
) {
  const registry = new Registry();
  registry.setDefaultLabels({ worker_id: workerId });
  collectDefaultMetrics({ register: registry });
  const registers = [registry];
  return {
    registry,
    silentFailures: createSilentFailureCounter(registry, "worker"),
    /** agentcast_redis_cluster_*: topology changes, redirections, node errors, masters reachable. */
    redisCluster: createRedisClusterMetrics(registry, "worker", redisClusterNodes),
    runs: new Counter({
      name: "agentcast_worker_runs_total",
      help: "Run jobs ended, by status (succeeded, failed, cancelled, stalled, shutdown, superseded)",
      labelNames: ["status"] as const,
      registers,
    }),
    consumerStopped: new Counter({
      name: "agentcast_worker_consumer_stopped_total",
      help: "Times the BullMQ job consumer loop stopped while the process was not shutting down (then /healthz is 503)",
      registers,
    }),
    runDuration: new Histogram({
      name: "agentcast_worker_run_duration_seconds",
      help: "Run duration from agent_started to the terminal event",
      buckets: [0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600],
      registers,
    }),
    eventsPublished: new Counter({
      name: "agentcast_worker_events_published_total",
      help: "Agent events published, by type",
      labelNames: ["type"] as const,
      registers,
    }),
    historyCompacted: new Counter({
      name: "agentcast_worker_history_compacted_events_total",
      help: "Events taken out of task histories over HISTORY_MAX_LEN or HISTORY_MAX_BYTES: deltas folded into a run's snapshot (text kept), or events and snapshots trimmed (gone)",
      labelNames: ["outcome"] as const,
      registers,
    }),
    llmTokens: new Counter({
      name: "agentcast_llm_tokens_total",
      help: "Tokens the LLM agent's provider reported (stream_options.include_usage), by kind (input, output)",
      labelNames: ["kind"] as const,
      registers,
    }),
    llmRequestDuration: new Histogram({
      name: "agentcast_llm_request_duration_seconds",
      help: "LLM agent: seconds from a provider request to its answer (headers) or failure, by outcome (ok, retried, failed)",
      labelNames: ["outcome"] as const,
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
      registers,
    }),
    llmErrors: new Counter({
      name: "agentcast_llm_errors_total",
      help: "LLM agent runs ended by a provider error, by code (llm_rate_limited, llm_unavailable, llm_timeout, llm_rejected, llm_bad_response, llm_max_steps)",
      labelNames: ["code"] as const,
      registers,
    }),
    agUiRequestDuration: new Histogram({
      name: "agentcast_ag_ui_request_duration_seconds",
      help: "AG-UI agent (AGENT=ag-ui): seconds from a request to the remote agent to its answer (headers) or failure, by outcome (ok, retried, failed)",
      labelNames: ["outcome"] as const,
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
      registers,
    }),
    agUiEventsRefused: new Counter({
      name: "agentcast_ag_ui_events_refused_total",
      help: "AG-UI agent: events from the remote agent refused (never passed to users), by reason (schema: not valid AG-UI; order: out of sequence)",
      labelNames: ["reason"] as const,
      registers,
    }),
    agUiErrors: new Counter({
      name: "agentcast_ag_ui_errors_total",
      help: "AG-UI agent runs ended by an error, by code (ag_ui_unavailable, ag_ui_timeout, ag_ui_rejected, ag_ui_bad_response, ag_ui_invalid_event, ag_ui_run_error)",
      labelNames: ["code"] as const,
      registers,
    }),
    toolDuration: new Histogram({
      name: "agentcast_worker_tool_duration_seconds",
      help: "Tool call duration, by tool (registered tool names; others are 'other')",
      labelNames: ["tool"] as const,
      buckets: [0.01, 0.05, 0.1, 0.5, 1, 2.5, 5, 10, 30, 60],
      registers,
    }),
    queueJobs: new Gauge({
      name: "agentcast_queue_jobs",
      help: "Run jobs in the BullMQ queue, by state",
      labelNames: ["state"] as const,
      registers,
      async collect() {
        // While Redis is unreachable or silent keep the last values: a scrape must not fail or hang because of one gauge.
        const counts = await withTimeout(queueCounts(), QUEUE_COUNTS_TIMEOUT_MS, "queue counts").catch(() => undefined);
        if (counts) for (const state of QUEUE_STATES) this.set({ state }, counts[state] ?? 0);
      },
    }),
  };
}

export type WorkerMetrics = ReturnType<typeof createWorkerMetrics>;
