import { Counter, type Registry } from "prom-client";

export type Component = "gateway" | "worker";

export interface SilentFailureKind {
  /** Which process counts it. */
  readonly components: readonly Component[];
  /** What happened (docs/operations.md shows this text). */
  readonly meaning: string;
  /** What an operator should do. */
  readonly action: string;
}

/**
 * Everything we can name that loses or stalls a user's stream without an error anyone sees.
 * Each is counted in `agentcast_silent_failures_total{component,kind}`; docs/operations.md lists
 * the same table and a test keeps the two in sync.
 */
export const SILENT_FAILURE_KINDS = {
  unrouted_event: {
    components: ["worker"],
    meaning: "An event was published while no gateway held the task's room: it is in history, but nobody saw it live",
    action: "Expected when users close the page mid-run; a rise with steady traffic means gateways are not subscribing to task rooms",
  },
  stuck_run: {
    components: ["worker"],
    meaning: "A run produced no event for longer than RUN_STALL_TIMEOUT_MS (or its worker died); it was ended with agent_error run_stalled",
    action: "Look for hung tool calls or dead workers in the worker logs (runId in the log line)",
  },
  unpaired_tool_call: {
    components: ["worker"],
    meaning: "A run ended (not by cancel) while a tool call was still executing; the worker closed it with tool_completed ok:false",
    action: "Find the tool in the worker log; it failed or hung without completing",
  },
  invalid_event: {
    components: ["worker"],
    meaning: "An agent produced an event that breaks the protocol's run rules; it was not sent and the run ended with agent_error",
    action: "Fix the agent: the log line names the rule that was broken",
  },
  sequence_gap: {
    components: ["gateway"],
    meaning: "A client reported a gap in seq (report_gap), or a gateway found events missing from history while replaying",
    action: "Check HISTORY_MAX_LEN / HISTORY_TTL_SECONDS against run sizes and Redis eviction (must be noeviction)",
  },
  emit_error: {
    components: ["gateway"],
    meaning: "Writing an event to a socket threw",
    action: "Check gateway logs for the stack trace",
  },
  redis_error: {
    components: ["gateway", "worker"],
    meaning: "The process lost Redis: one count per outage, from the first connection lost (or unanswered PING) until all are ready again",
    action: "Check Redis health, network and the client's logs; events are retried and replayed from history",
  },
  publish_failed: {
    components: ["worker"],
    meaning: "An event could not be published after all retries; its run ends as soon as Redis allows",
    action: "Check Redis availability from the workers",
  },
  ack_timeout: {
    components: ["gateway"],
    meaning: "A user_response was accepted but no worker consumed it within USER_RESPONSE_TIMEOUT_MS",
    action: "The run that asked is gone or hung: look for stuck_run or dead workers",
  },
  unreplicated_event: {
    components: ["worker"],
    meaning:
      "An event was published live before REDIS_WAIT_REPLICAS replicas acknowledged it (the wait timed out); a failover now could take it back",
    action:
      "A master without a healthy replica: check replication (INFO replication, replica lag); the run stops waiting for 1 s after each",
  },
  failover_lost_events: {
    components: ["worker"],
    meaning:
      "A Redis failover lost a live run's last events (asynchronous replication); its worker published them again, identical (same seq, id, content)",
    action: "Expected around a failover; set REDIS_WAIT_REPLICAS=1 to make it rare",
  },
  history_rewritten: {
    components: ["gateway"],
    meaning:
      "A task's history no longer holds an event a socket was given (a failover lost it and another took its seq); the socket got task_reset and the history again",
    action: "Expected only after a failover that lost events; with REDIS_WAIT_REPLICAS=1 it should stay 0",
  },
  history_compaction_failed: {
    components: ["worker"],
    meaning:
      "A task's history went over HISTORY_MAX_LEN or HISTORY_MAX_BYTES and folding its old deltas into snapshots failed (Redis error); the next event over the bound tries again",
    action: "Look for Redis errors; the history stays longer than its bound until a compaction succeeds",
  },
  conversation_write_failed: {
    components: ["worker"],
    meaning:
      "A finished run could not be added to its task's conversation (Redis error): the next follow-up's agent does not see that turn",
    action: "Look for Redis errors in the worker log (taskId, runId in the line); the run itself ended normally",
  },
} as const satisfies Record<string, SilentFailureKind>;

export type SilentFailure = keyof typeof SILENT_FAILURE_KINDS;

export interface SilentFailureCounter {
  inc(kind: SilentFailure, by?: number): void;
}

/** The `agentcast_silent_failures_total` family for one component, every kind present from 0. */
export function createSilentFailureCounter(registry: Registry, component: Component): SilentFailureCounter {
  const counter = new Counter({
    name: "agentcast_silent_failures_total",
    help: "Failures that lose or stall a user's stream without a visible error, by component and kind",
    labelNames: ["component", "kind"] as const,
    registers: [registry],
  });
  for (const [kind, info] of Object.entries(SILENT_FAILURE_KINDS)) {
    if ((info.components as readonly Component[]).includes(component)) counter.inc({ component, kind }, 0);
  }
  return { inc: (kind, by = 1) => counter.inc({ component, kind }, by) };
}
