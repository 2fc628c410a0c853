import { checkEventData, type EventEnvelope, type EventType, isEventType, isTerminalEventType } from "./events.js";

/**
 * The rules every run obeys, as an incremental checker. The worker runs each event through it
 * before publishing (an event that breaks a rule is not sent); test tools run whole runs through
 * `validateRunEvents`.
 *
 * 1. `agent_started` is the first event of a run and appears once.
 * 2. Exactly one terminal event (`agent_completed` | `agent_error`), and it is the last.
 * 3. Every `tool_executing` has exactly one later `tool_completed` with its `toolCallId` (same tool)
 *    before the terminal event; toolCallIds are unique within a run.
 * 4. `progress_update.percent` is within 0–100 and never decreases.
 * 5. Every `data` matches its type's schema.
 */
export class RunRules {
  private started = false;
  private ended = false;
  private lastPercent = -1;
  private readonly openTools = new Map<string, string>();
  private readonly seenToolCalls = new Set<string>();

  /** Returns why `type`/`data` would break a rule at this point, or null if it may be published. */
  check(type: string, data: unknown): string | null {
    if (!isEventType(type)) return `unknown event type "${type}"`;
    const bad = checkEventData(type, data);
    if (bad) return `${type}: ${bad}`;
    if (this.ended) return `${type} after the terminal event`;
    if (!this.started && type !== "agent_started") return `${type} before agent_started`;
    if (this.started && type === "agent_started") return "agent_started twice in one run";
    const d = data as Record<string, unknown>;
    switch (type) {
      case "tool_executing": {
        const id = d.toolCallId as string;
        if (this.seenToolCalls.has(id)) return `toolCallId "${id}" reused`;
        return null;
      }
      case "tool_completed": {
        const id = d.toolCallId as string;
        const tool = this.openTools.get(id);
        if (tool === undefined) return `tool_completed for "${id}" which is not executing`;
        if (tool !== d.tool) return `tool_completed for "${id}" names tool "${String(d.tool)}", expected "${tool}"`;
        return null;
      }
      case "progress_update": {
        const percent = d.percent as number;
        if (percent < this.lastPercent) return `progress went down from ${this.lastPercent} to ${percent}`;
        return null;
      }
      default:
        if (isTerminalEventType(type) && this.openTools.size > 0) {
          return `${type} while tool calls are open: ${[...this.openTools.keys()].join(", ")}`;
        }
        return null;
    }
  }

  /** Records an event that passed `check`. */
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

export interface RunViolation {
  /** seq of the offending event, or null for a rule about the run as a whole. */
  seq: number | null;
  message: string;
}

/**
 * Checks one run's events (in the order received): the run rules, plus one runId, one task,
 * seq strictly +1 from event to event. Returns every violation found (empty = valid).
 */
export function validateRunEvents(events: readonly EventEnvelope[]): RunViolation[] {
  const violations: RunViolation[] = [];
  const rules = new RunRules();
  const first = events[0];
  if (!first) return [{ seq: null, message: "the run has no events" }];
  let prevSeq: number | null = null;
  for (const e of events) {
    if (e.runId !== first.runId) violations.push({ seq: e.seq, message: `runId ${e.runId} differs from ${first.runId}` });
    if (e.taskId !== first.taskId) violations.push({ seq: e.seq, message: `taskId ${e.taskId} differs from ${first.taskId}` });
    if (prevSeq !== null && e.seq !== prevSeq + 1) {
      violations.push({ seq: e.seq, message: `seq ${e.seq} follows ${prevSeq} (expected ${prevSeq + 1})` });
    }
    prevSeq = e.seq;
    const why = rules.check(e.type, e.data);
    if (why) violations.push({ seq: e.seq, message: why });
    else rules.apply(e.type, e.data);
  }
  if (!rules.isEnded) violations.push({ seq: null, message: "the run has no terminal event" });
  return violations;
}
