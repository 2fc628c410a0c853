import {
  type EventEnvelope,
  type EventType,
  type RunRule,
  type RunViolation,
  TERMINAL_EVENT_TYPES,
  validateRunEvents,
} from "@agentcast/protocol";

export type CheckStatus = "pass" | "fail" | "not_observed";

export interface CheckResult {
  name: string;
  status: CheckStatus;
  detail: string;
  /** The protocol run rule this check applies (absent for the report's own checks: required events, final status). */
  rule?: RunRule;
}

export interface RunReport {
  /** True only when no check failed. A check that could not be observed does not pass the run by itself. */
  ok: boolean;
  taskId: string | undefined;
  runId: string | undefined;
  events: number;
  checks: CheckResult[];
  /** Every run-rule violation found, as the protocol names them (`rule`, `seq`, `message`). */
  violations: RunViolation[];
}

export interface ValidateRunOptions {
  /** Event types that must appear (default: the five every demo-style run shows). */
  required?: readonly EventType[];
  /** The user the run belongs to: any event of another user fails the run. */
  userId?: string;
  /** How the run must end (e.g. ["succeeded"]): anything else — cancelled, agent_error — fails the run. */
  expectStatus?: readonly FinalStatus[];
}

/** How a run ended: agent_completed's status, or "failed" for agent_error. */
export type FinalStatus = "succeeded" | "cancelled" | "failed";

export const FINAL_STATUSES: readonly FinalStatus[] = ["succeeded", "cancelled", "failed"];

export const DEFAULT_REQUIRED_EVENTS: readonly EventType[] = [
  "agent_started",
  "agent_thinking",
  "tool_executing",
  "tool_completed",
  "agent_completed",
];

interface RuleCheck {
  name: string;
  /** What a run that kept the rule showed (the pass detail), or null when it gave the rule nothing to check. */
  observed: (events: readonly EventEnvelope[]) => string | null;
  /** The detail when nothing was observed. */
  unseen: string;
}

const whenAny = (detail: (events: readonly EventEnvelope[]) => string) => (events: readonly EventEnvelope[]) =>
  events.length > 0 ? detail(events) : null;

/** One report line per protocol run rule (a Record: a rule the protocol adds cannot go unreported), in report order. */
const RULE_CHECKS: Record<RunRule, RuleCheck> = {
  order: { name: "agent_started first, once", observed: whenAny((e) => `${e.length} events`), unseen: "no events" },
  terminal: { name: "exactly one terminal event, last", observed: terminalDetail, unseen: "no terminal event" },
  tool_pairing: { name: "every tool_executing has one tool_completed", observed: toolDetail, unseen: "no tool calls in this run" },
  progress: { name: "progress within 0-100, never decreasing", observed: progressDetail, unseen: "no progress_update in this run" },
  seq: {
    name: "seq gapless, in order, no duplicates",
    observed: whenAny((e) => `seq ${e[0]?.seq}..${e.at(-1)?.seq}`),
    unseen: "no events",
  },
  identity: {
    name: "no other user's, task's or run's events",
    observed: whenAny((e) => `all ${e.length} for user ${e[0]?.userId}`),
    unseen: "no events",
  },
  schema: { name: "payloads match the protocol schemas", observed: whenAny(() => "all valid"), unseen: "no events" },
};

/**
 * Checks one run's events as a client received them, and says what it could and could not observe.
 * The run rules are the protocol's (`validateRunEvents`): a check fails exactly when a violation names
 * its rule. On top of them: the required event types were received, and the run ended as expected.
 */
export function validateRun(events: readonly EventEnvelope[], opts: ValidateRunOptions = {}): RunReport {
  const first = events[0];
  const userId = opts.userId ?? first?.userId;
  const violations = validateRunEvents(events, userId === undefined ? {} : { userId });
  const checks: CheckResult[] = (opts.required ?? DEFAULT_REQUIRED_EVENTS).map((type) => {
    const at = events.find((e) => e.type === type);
    return at
      ? { name: `${type} present`, status: "pass", detail: `first at seq ${at.seq}` }
      : { name: `${type} present`, status: "fail", detail: "never received" };
  });
  for (const [rule, check] of Object.entries(RULE_CHECKS) as [RunRule, RuleCheck][]) {
    checks.push(ruleCheck(rule, check, violations, events));
    if (rule === "terminal" && opts.expectStatus) checks.push(statusCheck(events, opts.expectStatus));
  }
  return {
    ok: checks.every((c) => c.status !== "fail") && violations.length === 0 && events.length > 0,
    taskId: first?.taskId,
    runId: first?.runId,
    events: events.length,
    checks,
    violations,
  };
}

/** Fails exactly when a violation names the check's rule; else passes, or is not observed. */
function ruleCheck(
  rule: RunRule,
  { name, observed, unseen }: RuleCheck,
  violations: readonly RunViolation[],
  events: readonly EventEnvelope[],
): CheckResult {
  const broken = violations.filter((v) => v.rule === rule);
  const [firstBroken] = broken;
  if (firstBroken) {
    const where = firstBroken.seq === null ? "" : `seq ${firstBroken.seq}: `;
    const more = broken.length > 1 ? ` (and ${broken.length - 1} more)` : "";
    return { name, rule, status: "fail", detail: `${where}${firstBroken.message}${more}` };
  }
  const passDetail = observed(events);
  return passDetail === null ? { name, rule, status: "not_observed", detail: unseen } : { name, rule, status: "pass", detail: passDetail };
}

function finalStatusOf(terminal: EventEnvelope): FinalStatus {
  return terminal.type === "agent_completed" ? (terminal.data as { status: "succeeded" | "cancelled" }).status : "failed";
}

function terminalDetail(events: readonly EventEnvelope[]): string | null {
  const last = events.at(-1);
  if (!last || !TERMINAL_EVENT_TYPES.includes(last.type)) return null;
  return last.type === "agent_completed"
    ? `agent_completed (${finalStatusOf(last)})`
    : `agent_error (${String((last.data as { code?: string }).code)})`;
}

function toolDetail(events: readonly EventEnvelope[]): string | null {
  const calls = events.filter((e) => e.type === "tool_executing").length;
  return calls === 0 ? null : `${calls} tool call${calls === 1 ? "" : "s"}`;
}

function progressDetail(events: readonly EventEnvelope[]): string | null {
  const updates = events.filter((e) => e.type === "progress_update");
  const last = updates.at(-1);
  return last ? `${updates.length} updates, last ${(last.data as { percent: number }).percent}%` : null;
}

function statusCheck(events: readonly EventEnvelope[], expected: readonly FinalStatus[]): CheckResult {
  const name = `run ended ${expected.join(" or ")}`;
  const last = events.findLast((e) => TERMINAL_EVENT_TYPES.includes(e.type));
  if (!last) return { name, status: "not_observed", detail: "no terminal event received" };
  const status = finalStatusOf(last);
  return expected.includes(status)
    ? { name, status: "pass", detail: status }
    : { name, status: "fail", detail: `ended ${status} (seq ${last.seq})` };
}
