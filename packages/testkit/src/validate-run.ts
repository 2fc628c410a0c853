import { checkEventData, type EventEnvelope, type EventType, isEventType, RunRules, TERMINAL_EVENT_TYPES } from "@agentcast/protocol";

export type CheckStatus = "pass" | "fail" | "not_observed";

export interface CheckResult {
  name: string;
  status: CheckStatus;
  detail: string;
}

export interface RunReport {
  /** True only when no check failed. A check that could not be observed does not pass the run by itself. */
  ok: boolean;
  taskId: string | undefined;
  runId: string | undefined;
  events: number;
  checks: CheckResult[];
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

export const DEFAULT_REQUIRED_EVENTS: readonly EventType[] = [
  "agent_started",
  "agent_thinking",
  "tool_executing",
  "tool_completed",
  "agent_completed",
];

const pass = (name: string, detail: string): CheckResult => ({ name, status: "pass", detail });
const fail = (name: string, detail: string): CheckResult => ({ name, status: "fail", detail });
const unseen = (name: string, detail: string): CheckResult => ({ name, status: "not_observed", detail });

/**
 * Checks one run's events as a client received them, and says what it could and could not observe:
 * required events, order, one terminal event, tool pairing, progress, seq, ownership, payload schemas.
 */
export function validateRun(events: readonly EventEnvelope[], opts: ValidateRunOptions = {}): RunReport {
  const required = opts.required ?? DEFAULT_REQUIRED_EVENTS;
  const first = events[0];
  const checks: CheckResult[] = [];
  for (const type of required) {
    const at = events.find((e) => e.type === type);
    checks.push(at ? pass(`${type} present`, `first at seq ${at.seq}`) : fail(`${type} present`, "never received"));
  }
  checks.push(orderCheck(events));
  checks.push(terminalCheck(events));
  if (opts.expectStatus) checks.push(statusCheck(events, opts.expectStatus));
  checks.push(toolCheck(events));
  checks.push(progressCheck(events));
  checks.push(seqCheck(events));
  checks.push(ownerCheck(events, opts.userId ?? first?.userId));
  checks.push(schemaCheck(events));
  return {
    ok: checks.every((c) => c.status !== "fail") && events.length > 0,
    taskId: first?.taskId,
    runId: first?.runId,
    events: events.length,
    checks,
  };
}

function orderCheck(events: readonly EventEnvelope[]): CheckResult {
  const name = "agent_started first, nothing after the terminal";
  if (events.length === 0) return unseen(name, "no events");
  const rules = new RunRules();
  for (const e of events) {
    const why = rules.check(e.type, e.data);
    if (why && (why.includes("before agent_started") || why.includes("after the terminal") || why.includes("twice")))
      return fail(name, `seq ${e.seq}: ${why}`);
    if (!why) rules.apply(e.type, e.data);
  }
  return pass(name, `${events.length} events`);
}

function terminalCheck(events: readonly EventEnvelope[]): CheckResult {
  const name = "exactly one terminal event, last";
  const terminals = events.filter((e) => TERMINAL_EVENT_TYPES.includes(e.type));
  if (terminals.length === 0) return fail(name, "no agent_completed or agent_error received");
  if (terminals.length > 1) return fail(name, `${terminals.length} terminal events (seq ${terminals.map((e) => e.seq).join(", ")})`);
  const last = events[events.length - 1] as EventEnvelope;
  if (last !== terminals[0]) return fail(name, `terminal at seq ${terminals[0]?.seq} is followed by seq ${last.seq}`);
  const detail =
    last.type === "agent_completed"
      ? `agent_completed (${String((last.data as { status?: string }).status)})`
      : `agent_error (${String((last.data as { code?: string }).code)})`;
  return pass(name, detail);
}

function statusCheck(events: readonly EventEnvelope[], expected: readonly FinalStatus[]): CheckResult {
  const name = `run ended ${expected.join(" or ")}`;
  const last = events.findLast((e) => TERMINAL_EVENT_TYPES.includes(e.type));
  if (!last) return unseen(name, "no terminal event received");
  const status: FinalStatus =
    last.type === "agent_completed" ? ((last.data as { status: "succeeded" | "cancelled" }).status ?? "succeeded") : "failed";
  return expected.includes(status) ? pass(name, status) : fail(name, `ended ${status} (seq ${last.seq})`);
}

function toolCheck(events: readonly EventEnvelope[]): CheckResult {
  const name = "every tool_executing has one tool_completed";
  const open = new Map<string, number>();
  let calls = 0;
  for (const e of events) {
    const d = e.data as { toolCallId?: string };
    if (e.type === "tool_executing") {
      calls++;
      if (d.toolCallId && open.has(d.toolCallId)) return fail(name, `toolCallId ${d.toolCallId} started twice (seq ${e.seq})`);
      open.set(d.toolCallId ?? "", e.seq);
    } else if (e.type === "tool_completed") {
      if (!open.has(d.toolCallId ?? "")) return fail(name, `tool_completed for ${d.toolCallId} without a tool_executing (seq ${e.seq})`);
      open.delete(d.toolCallId ?? "");
    }
  }
  if (calls === 0) return unseen(name, "no tool calls in this run");
  if (open.size > 0) return fail(name, `never completed: ${[...open].map(([id, seq]) => `${id} (seq ${seq})`).join(", ")}`);
  return pass(name, `${calls} tool call${calls === 1 ? "" : "s"}`);
}

function progressCheck(events: readonly EventEnvelope[]): CheckResult {
  const name = "progress within 0-100, never decreasing";
  let last = -1;
  let count = 0;
  for (const e of events) {
    if (e.type !== "progress_update") continue;
    count++;
    const p = (e.data as { percent?: number }).percent ?? Number.NaN;
    if (!(p >= 0 && p <= 100)) return fail(name, `percent ${p} at seq ${e.seq}`);
    if (p < last) return fail(name, `went down from ${last} to ${p} at seq ${e.seq}`);
    last = p;
  }
  return count === 0 ? unseen(name, "no progress_update in this run") : pass(name, `${count} updates, last ${last}%`);
}

function seqCheck(events: readonly EventEnvelope[]): CheckResult {
  const name = "seq gapless, in order, no duplicates";
  if (events.length === 0) return unseen(name, "no events");
  for (let i = 1; i < events.length; i++) {
    const prev = events[i - 1] as EventEnvelope;
    const cur = events[i] as EventEnvelope;
    if (cur.seq === prev.seq) return fail(name, `seq ${cur.seq} received twice`);
    if (cur.seq !== prev.seq + 1) return fail(name, `seq ${cur.seq} after ${prev.seq}`);
  }
  return pass(name, `seq ${events[0]?.seq}..${events[events.length - 1]?.seq}`);
}

function ownerCheck(events: readonly EventEnvelope[], userId: string | undefined): CheckResult {
  const name = "no other user's or task's events";
  if (events.length === 0 || userId === undefined) return unseen(name, "no events");
  const first = events[0] as EventEnvelope;
  const foreign = events.find((e) => e.userId !== userId || e.taskId !== first.taskId || e.runId !== first.runId);
  if (foreign) return fail(name, `seq ${foreign.seq} belongs to user ${foreign.userId}, task ${foreign.taskId}, run ${foreign.runId}`);
  return pass(name, `all ${events.length} for user ${userId}`);
}

function schemaCheck(events: readonly EventEnvelope[]): CheckResult {
  const name = "payloads match the protocol schemas";
  if (events.length === 0) return unseen(name, "no events");
  for (const e of events) {
    if (!isEventType(e.type)) return fail(name, `unknown type ${String(e.type)} at seq ${e.seq}`);
    const bad = checkEventData(e.type, e.data);
    if (bad) return fail(name, `seq ${e.seq} (${e.type}): ${bad.split("\n")[0]}`);
  }
  return pass(name, "all valid");
}
