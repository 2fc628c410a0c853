import type { EventEnvelope } from "@agentcast/protocol";

export interface TaskStreamOptions {
  /** Events kept for handles opened later (oldest dropped first). */
  maxRetained: number;
  /** Called once per gap: seq `got` arrived while `expected` is still missing. */
  onGap: (expected: number, got: number) => void;
  /** Out-of-order events held at most while a gap is open; one more drops them all (see `onHeldDropped`). */
  maxHeld: number;
  /**
   * Held events were dropped (more than `maxHeld` waited for a missing seq): nothing after `lastSeq`
   * has been delivered, so re-reading the task from `lastSeq` (a resubscribe) recovers them all.
   */
  onHeldDropped: (dropped: number) => void;
}

/**
 * One task's events in seq order, exactly once: duplicates are dropped, early events are held
 * until the gap before them fills (the second line of defence behind the gateway's own ordering).
 * At most `maxHeld` are held: beyond that they are dropped and the owner re-reads from `lastSeq`.
 */
export class TaskStream {
  lastSeq: number;
  /** `id` of the event at `lastSeq` when this stream delivered it: a resubscribe sends it so the gateway can check history still has it. */
  lastId: string | undefined;
  readonly retained: EventEnvelope[] = [];
  private readonly held = new Map<number, EventEnvelope>();
  private readonly listeners = new Set<(e: EventEnvelope) => void>();
  private readonly resetListeners = new Set<() => void>();
  /** After a reset: the next event starts the stream again, wherever history starts now. */
  private restarting = false;
  private reportedGapAt = -1;
  /** Seqs up to this one may be streamed deltas folded into snapshots (from the subscribe ack). */
  private foldedThrough = 0;
  /** Set while the stream waits for this run's agent_started to learn where it starts (see `startAtRun`). */
  private anchorRunId: string | undefined;

  constructor(
    readonly taskId: string,
    sinceSeq: number,
    private readonly opts: TaskStreamOptions,
  ) {
    this.lastSeq = sinceSeq;
  }

  /**
   * Starts the stream at run `runId` of a task whose lastSeq is unknown (a follow-up on a task this
   * client did not follow): the run's agent_started says where — seq - 1 is the task's lastSeq
   * before the run. Earlier events (e.g. a replay after a reconnect) are not delivered.
   */
  startAtRun(runId: string): void {
    this.anchorRunId = runId;
  }

  /**
   * The subscribe ack said streamed deltas up to `seq` may be folded into snapshots: the replay skips
   * their seqs (their text comes in the snapshots), which is not a gap.
   */
  folded(seq: number): void {
    if (seq > this.foldedThrough) this.foldedThrough = seq;
  }

  /** Takes an event from the wire; delivers it (and any held successors) when it is next in line. */
  accept(e: EventEnvelope): void {
    if (this.restarting) {
      this.restarting = false;
      this.lastSeq = e.seq - 1;
    }
    if (this.anchorRunId !== undefined) {
      if (e.runId !== this.anchorRunId) return;
      if (e.type !== "agent_started") {
        this.hold(e); // cannot come first from the gateway; kept until the start arrives
        return;
      }
      this.anchorRunId = undefined;
      this.skipTo(e.seq - 1);
    }
    if (e.seq <= this.lastSeq || this.held.has(e.seq)) return;
    // Only folded seqs before it: next in line.
    if (e.seq !== this.lastSeq + 1 && e.seq - 1 <= this.foldedThrough) this.skipTo(e.seq - 1);
    if (e.seq !== this.lastSeq + 1) {
      if (!this.hold(e)) return;
      if (this.reportedGapAt !== this.lastSeq + 1) {
        this.reportedGapAt = this.lastSeq + 1;
        this.opts.onGap(this.lastSeq + 1, e.seq);
      }
      return;
    }
    this.deliver(e);
    this.flushHeld();
  }

  /** History before `seq + 1` is gone (truncated replay): continue from there. */
  skipTo(seq: number): void {
    if (seq <= this.lastSeq) return;
    this.lastSeq = seq;
    this.lastId = undefined;
    for (const held of this.held.keys()) if (held <= seq) this.held.delete(held);
    this.flushHeld();
  }

  /** Whether events are held back waiting for a missing seq. */
  get hasGap(): boolean {
    return this.held.size > 0;
  }

  /** How many events are held back waiting for a missing seq (at most `maxHeld`). */
  get heldCount(): number {
    return this.held.size;
  }

  listen(fn: (e: EventEnvelope) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  /** Calls `fn` when the stream is reset (see `reset`). */
  onReset(fn: () => void): () => void {
    this.resetListeners.add(fn);
    return () => this.resetListeners.delete(fn);
  }

  /**
   * The gateway said the task's history was rewritten (task_reset: a Redis failover lost events this
   * stream delivered, and others may have taken their seqs): everything delivered is void. Listeners
   * are told, then the stream starts again at the next event (the gateway sends the history again).
   */
  reset(): void {
    this.lastSeq = 0;
    this.lastId = undefined;
    this.retained.length = 0;
    this.held.clear();
    this.reportedGapAt = -1;
    this.restarting = true;
    for (const fn of this.resetListeners) fn();
  }

  get listenerCount(): number {
    return this.listeners.size;
  }

  /** Holds `e`, or — when `maxHeld` are already held — drops them all and `e`, and says so. */
  private hold(e: EventEnvelope): boolean {
    if (this.held.has(e.seq)) return true;
    if (this.held.size < this.opts.maxHeld) {
      this.held.set(e.seq, e);
      return true;
    }
    const dropped = this.held.size + 1;
    this.held.clear();
    this.opts.onHeldDropped(dropped);
    return false;
  }

  private flushHeld(): void {
    for (let next = this.held.get(this.lastSeq + 1); next; next = this.held.get(this.lastSeq + 1)) {
      this.held.delete(next.seq);
      this.deliver(next);
    }
  }

  private deliver(e: EventEnvelope): void {
    this.lastSeq = e.seq;
    this.lastId = typeof e.id === "string" ? e.id : undefined;
    this.retained.push(e);
    if (this.retained.length > this.opts.maxRetained) this.retained.shift();
    for (const fn of this.listeners) fn(e);
  }
}
