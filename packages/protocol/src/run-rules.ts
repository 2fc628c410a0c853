import { checkEventData, type EventEnvelope, type EventType, isEventType, isTerminalEventType } from "./events.js";

/**
 * The rules every run obeys, as data: a violation names its rule, so a check compares `rule`, never
 * the English message. `RunRules` checks one event at a time (order, terminal, tool_pairing,
 * progress, schema); `validateRunEvents` adds the rules about envelopes (seq, identity).
 */
export const RUN_RULES = {
  order: "agent_started is the first event of a run and appears once",
  terminal: "exactly one terminal event (agent_completed | agent_error), and it is the last",
  tool_pairing:
    "every tool_executing has exactly one later tool_completed with its toolCallId (same tool) before the terminal event; toolCallIds are unique within a run",
  progress: "progress_update.percent is within 0-100 and never decreases",
  schema: "every event has a known type and its data matches that type's schema",
  seq: "seq rises by exactly 1 from one event of the run to the next",
  identity: "all events of a run carry the same runId, taskId and userId (the run's owner)",
} as const;

export type RunRule = keyof typeof RUN_RULES;

export const RUN_RULE_NAMES = Object.keys(RUN_RULES) as RunRule[];

/** Which rule an event (or a run) breaks, and why in words for people. */
export interface RuleViolation {
  rule: RunRule;
  message: string;
}

const violation = (rule: RunRule, message: string): RuleViolation => ({ rule, message });

/**
 * The per-event rules as an incremental checker. The worker runs each event through it before
 * publishing (an event that breaks a rule is not sent); test tools run whole runs through
 * `validateRunEvents`.
 */
export class RunRules {
  private started = false;
  private ended = false;
  private lastPercent = -1;
  private readonly openTools = new Map<string, string>();
  private readonly seenToolCalls = new Set<string>();

  /** The rule `type`/`data` would break at this point, or null if it may be published. */
  violation(type: string, data: unknown): RuleViolation | null {
    if (!isEventType(type)) return violation("schema", `unknown event type "${type}"`);
    const d = (typeof data === "object" && data !== null ? data : {}) as Record<string, unknown>;
    if (type === "progress_update" && typeof d.percent === "number" && !(d.percent >= 0 && d.percent <= 100))
      return violation("progress", `progress_update.percent ${d.percent} is outside 0-100`);
    const bad = checkEventData(type, data);
    if (bad) return violation("schema", `${type}: ${bad}`);
    if (this.ended) return violation("terminal", `${type} after the terminal event`);
    if (!this.started && type !== "agent_started") return violation("order", `${type} before agent_started`);
    if (this.started && type === "agent_started") return violation("order", "agent_started twice in one run");
    switch (type) {
      case "tool_executing": {
        const id = d.toolCallId as string;
        return this.seenToolCalls.has(id) ? violation("tool_pairing", `toolCallId "${id}" reused`) : null;
      }
      case "tool_completed": {
        const id = d.toolCallId as string;
        const tool = this.openTools.get(id);
        if (tool === undefined) return violation("tool_pairing", `tool_completed for "${id}" which is not executing`);
        if (tool !== d.tool)
          return violation("tool_pairing", `tool_completed for "${id}" names tool "${String(d.tool)}", expected "${tool}"`);
        return null;
      }
      case "progress_update": {
        const percent = d.percent as number;
        return percent < this.lastPercent ? violation("progress", `progress went down from ${this.lastPercent} to ${percent}`) : null;
      }
      default:
        if (isTerminalEventType(type) && this.openTools.size > 0)
          return violation("tool_pairing", `${type} while tool calls are open: ${[...this.openTools.keys()].join(", ")}`);
        return null;
    }
  }

  /** Why `type`/`data` would break a rule at this point (the violation's message), or null if it may be published. */
  check(type: string, data: unknown): string | null {
    return this.violation(type, data)?.message ?? null;
  }

  /** Records an event that passed `check` (`validateRunEvents` also records one that broke order, terminal or tool_pairing). */
  apply(type: EventType, data: unknown): void {
    const d = data as Record<string, unknown>;
    if (type === "agent_started") this.started = true;
    else if (type === "tool_executing") {
      this.openTools.set(d.toolCallId as string, d.tool as string);
      this.seenToolCalls.add(d.toolCallId as string);
    } else if (type === "tool_completed") this.openTools.delete(d.toolCallId as string);
    else if (type === "progress_update") this.lastPercent = d.percent as number;
    else if (isTerminalEventType(type)) this.ended = true;
  }

  get isStarted(): boolean {
    return this.started;
  }
  get isEnded(): boolean {
    return this.ended;
  }
  /** Tool calls executing now, as [toolCallId, tool]. */
  get openToolCalls(): ReadonlyArray<readonly [string, string]> {
    return [...this.openTools.entries()];
  }
}

export interface RunViolation extends RuleViolation {
  /** seq of the offending event, or null for a rule about the run as a whole. */
  seq: number | null;
}

export interface ValidateRunEventsOptions {
  /** The user the run must belong to (default: the first event's userId). */
  userId?: string;
  /** The subscribe ack's (or history page's) `foldedThrough`: seqs up to it may be folded into a snapshot, not missing. */
  foldedThrough?: number;
}

/**
 * Checks one run's events (in the order received) against every rule in `RUN_RULES` and returns each
 * violation found (empty = valid). After a violation it goes on as if the event had been accepted
 * (except a schema or progress violation: that data is not recorded), so one mistake is reported once,
 * under its own rule, rather than cascading into the rules after it.
 */
export function validateRunEvents(events: readonly EventEnvelope[], opts: ValidateRunEventsOptions = {}): RunViolation[] {
  const first = events[0];
  if (!first) return [{ seq: null, rule: "terminal", message: "the run has no events" }];
  const violations: RunViolation[] = [];
  const rules = new RunRules();
  const userId = opts.userId ?? first.userId;
  let prevSeq: number | null = null;
  for (const e of events) {
    const at = (v: RuleViolation) => violations.push({ seq: e.seq, ...v });
    if (e.runId !== first.runId) at(violation("identity", `runId ${e.runId} differs from ${first.runId}`));
    if (e.taskId !== first.taskId) at(violation("identity", `taskId ${e.taskId} differs from ${first.taskId}`));
    if (e.userId !== userId) at(violation("identity", `userId ${e.userId} is not the run's user ${userId}`));
    // Seqs up to foldedThrough may be streamed deltas folded into a snapshot (compacted history): not missing.
    const folded = opts.foldedThrough !== undefined && e.seq - 1 <= opts.foldedThrough;
    if (prevSeq !== null && e.seq !== prevSeq + 1 && !(folded && e.seq > prevSeq))
      at(violation("seq", `seq ${e.seq} follows ${prevSeq} (expected ${prevSeq + 1})`));
    prevSeq = e.seq;
    const broken = rules.violation(e.type, e.data);
    if (broken) at(broken);
    if (broken?.rule !== "schema" && broken?.rule !== "progress") rules.apply(e.type, e.data);
  }
  if (!rules.isEnded) {
    violations.push({ seq: null, rule: "terminal", message: "the run has no terminal event" });
    const open = rules.openToolCalls.map(([id, tool]) => `${id} (${tool})`);
    if (open.length > 0) violations.push({ seq: null, rule: "tool_pairing", message: `tool calls never completed: ${open.join(", ")}` });
  }
  return violations;
}
