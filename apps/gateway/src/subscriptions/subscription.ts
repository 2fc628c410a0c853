/**
 * One socket's subscription to one task, as a state machine with no I/O:
 *
 *   joining ──joined()──▶ replaying ──replayed(last page, no gap)──▶ live
 *                           ▲   │                                     │
 *                           │   └─replayed(full page, or a gap)──▶ (replaying: read again)
 *                           └───── offer(): a live gap, an older seq / resync() ┘
 *   any ──close()──▶ closed
 *
 * Joining: the socket is in the room and the pod's Redis subscription is being confirmed. From then
 * on every event is either in what history returns afterwards or arrives live, so live events are
 * held back (bounded) while history is replayed, then merged by seq. Nothing is delivered twice:
 * `lastSeq` is the highest seq handed out for delivery. The owner (the registry) does the reads and
 * writes and feeds their results in.
 *
 * History can be rewritten under a subscription: a Redis failover can lose the last events of a task
 * that were already delivered (replication is asynchronous), and the next event then takes a lost
 * seq with other content — dropping it as a duplicate would lose it silently. So the subscription
 * keeps the id of the event at `lastSeq` and checks it: every history read starts one entry early, at
 * `lastSeq` (`replayAfter`), and that entry must still be there with the same id; a live event at
 * `lastSeq` must have it; a live event below `lastSeq` is checked the same way (a replay). When the
 * check fails the subscription resets (`reset`): the socket is told to discard the task's events and
 * gets its history again, from the oldest retained event.
 */
export type Phase = "joining" | "replaying" | "live" | "closed";

export interface Sequenced {
  readonly seq: number;
  /** The event's id, when known (the check against a rewritten history needs it). */
  readonly id?: string | undefined;
}

/** Where a task's history stands (EventLog.position). */
export interface TaskPosition {
  lastSeq: number;
  /** From this seq on nothing was dropped for good; undefined when nothing is retained. */
  firstSeq: number | undefined;
  /** Streamed deltas up to this seq may be folded into snapshots (0: none). */
  foldedThrough?: number;
}

/** What the ack of a subscribe says about where the subscription starts. */
export interface SubscriptionStart {
  lastSeq: number;
  truncated?: true;
  firstSeq?: number;
  /** Seqs up to this one that the replay skips were streamed deltas folded into the snapshots it sends: not gaps. */
  foldedThrough?: number;
}

/**
 * What to do with a live event now. `gap`: a live message was lost; `verify`: an event below `lastSeq`
 * arrived (a resend, or history rewritten); `reset`: the event at `lastSeq` has another id (history
 * rewritten: tell the socket). After each the subscription is replaying: start a read.
 */
export type LiveAction = "deliver" | "hold" | "drop" | "gap" | "verify" | "reset";

export interface ReplayStep<E> {
  /** Events to write now, in this order; `replayed` says whether each came from history. */
  deliver: { event: E; replayed: boolean }[];
  /**
   * Holes found, each a sequence_gap: `trimmed` — history skips from `after` to `next` (entries gone
   * while we read); `skipped` — live events wait behind a hole history cannot fill, so delivery goes
   * on after `after` with `next`.
   */
  holes: { kind: "trimmed" | "skipped"; after: number; next: number }[];
  /** Read another page, or the subscription is live. */
  next: "read" | "live";
  /** History no longer holds what the socket was given: tell it (task_reset) before anything else; the replay starts over. */
  reset?: true;
}

/** Rounds of empty history reads, with live events waiting behind a gap, before the hole is skipped. */
const EMPTY_GAP_ROUNDS = 3;

export class Subscription<E extends Sequenced> {
  private current: Phase = "joining";
  private pending: E[] = [];
  /** Live events were dropped because `pending` was full: history must be read again. */
  private overflowed = false;
  private emptyGapRounds = 0;
  /** After a reset: the next replayed page starts wherever history starts now. */
  private fromOldest = false;
  /** Highest seq handed out for delivery (or skipped as truncated). */
  lastSeq: number;
  /** Id of the event at `lastSeq`, when known (given by the client, or delivered here). */
  lastId: string | undefined;

  constructor(
    readonly taskId: string,
    sinceSeq: number,
    private readonly limits: {
      /** Live events held back while replaying; beyond it they are dropped and history is read again. */
      maxPending: number;
      /** What is kept of an event held back past this tick (e.g. a copy that does not pin a larger buffer). */
      keep?: (event: E) => E;
    },
    /** The client's id of its event at `sinceSeq`, to check history still has it there. */
    sinceId?: string,
  ) {
    this.lastSeq = sinceSeq;
    this.lastId = sinceSeq > 0 ? sinceId : undefined;
  }

  /** Read history after this seq: `lastSeq - 1` when the event at `lastSeq` is to be checked, else `lastSeq`. */
  get replayAfter(): number {
    return this.anchored ? this.lastSeq - 1 : this.lastSeq;
  }

  private get anchored(): boolean {
    return this.lastId !== undefined && this.lastSeq > 0 && !this.fromOldest;
  }

  get phase(): Phase {
    return this.current;
  }

  /** Live events held back while replaying. */
  get held(): number {
    return this.pending.length;
  }

  /**
   * joining → replaying: the room is confirmed and the task's position read. When history no longer
   * reaches `sinceSeq + 1`, the subscription starts at the oldest retained event (`truncated`).
   */
  joined(position: TaskPosition): SubscriptionStart {
    if (this.current !== "joining") throw new Error(`joined() in phase ${this.current}`);
    this.current = "replaying";
    const start: SubscriptionStart = { lastSeq: position.lastSeq };
    if (this.lastSeq < position.lastSeq) {
      const firstSeq = position.firstSeq ?? position.lastSeq + 1;
      if (firstSeq > this.lastSeq + 1) {
        start.truncated = true;
        start.firstSeq = firstSeq;
        this.lastSeq = firstSeq - 1;
        this.lastId = undefined;
      }
      if ((position.foldedThrough ?? 0) > this.lastSeq) start.foldedThrough = position.foldedThrough;
    }
    return start;
  }

  /** A live event arrived. `gap`: a live message was lost; the subscription went back to replaying (start a read). */
  offer(event: E): LiveAction {
    switch (this.current) {
      case "closed":
        return "drop";
      case "joining":
      case "replaying":
        this.hold(event);
        return "hold";
      case "live":
        if (event.seq === this.lastSeq + 1) {
          this.lastSeq = event.seq;
          this.lastId = event.id;
          return "deliver";
        }
        if (event.seq <= this.lastSeq) {
          if (this.lastId === undefined || event.id === undefined || (event.seq === this.lastSeq && event.id === this.lastId))
            return "drop";
          if (event.seq === this.lastSeq) {
            this.reset();
            return "reset";
          }
          this.current = "replaying"; // a resend or a rewrite: the read from lastSeq tells which
          this.pending = [];
          this.overflowed = false;
          return "verify";
        }
        this.current = "replaying";
        this.pending = [this.limits.keep?.(event) ?? event];
        this.overflowed = false;
        return "gap";
    }
  }

  /**
   * A page of history after `lastSeq` was read (`full`: it had as many entries as were asked for).
   * Returns what to write now and whether to read again; once history is exhausted the held live
   * events are merged, and the subscription goes live unless one is still missing. Seqs up to
   * `foldedThrough` missing from the page were streamed deltas folded into snapshots (the page carries
   * the snapshots): not holes.
   */
  replayed(read: readonly E[], full: boolean, foldedThrough = 0): ReplayStep<E> {
    if (this.current !== "replaying") return { deliver: [], holes: [], next: this.current === "live" ? "live" : "read" };
    let page = read;
    if (this.anchored) {
      // Read from lastSeq: the entry there must be the event this socket was given — unless it was a delta
      // since folded into a snapshot (the snapshot's id is its own): folding is not a rewrite.
      const anchor = page[0];
      const folded = this.lastSeq <= foldedThrough;
      if (!anchor || (anchor.seq === this.lastSeq && anchor.id !== undefined && anchor.id !== this.lastId && !folded)) {
        this.reset();
        return { deliver: [], holes: [], next: "read", reset: true };
      }
      if (anchor.seq === this.lastSeq) page = page.slice(1);
    } else if (this.fromOldest) {
      this.fromOldest = false;
      const oldest = page[0];
      if (oldest) this.lastSeq = oldest.seq - 1;
    }
    const deliver: { event: E; replayed: boolean }[] = [];
    const holes: ReplayStep<E>["holes"] = [];
    for (const e of page) {
      if (e.seq <= this.lastSeq) continue;
      if (e.seq > this.lastSeq + 1 && e.seq - 1 > foldedThrough) holes.push({ kind: "trimmed", after: this.lastSeq, next: e.seq });
      this.lastSeq = e.seq;
      this.lastId = e.id;
      deliver.push({ event: e, replayed: true });
    }
    if (full) return { deliver, holes, next: "read" };
    this.pending.sort((a, b) => a.seq - b.seq);
    let gap = this.overflowed;
    for (const e of this.pending) {
      if (e.seq <= this.lastSeq) continue;
      if (e.seq !== this.lastSeq + 1) {
        gap = true;
        break;
      }
      this.lastSeq = e.seq;
      this.lastId = e.id;
      deliver.push({ event: e, replayed: false });
    }
    if (gap && page.length === 0 && !this.overflowed && ++this.emptyGapRounds > EMPTY_GAP_ROUNDS) {
      // History lacks events that live delivery skipped (deleted or expired): go on in order.
      const next = this.pending.find((e) => e.seq > this.lastSeq);
      if (next) holes.push({ kind: "skipped", after: this.lastSeq, next: next.seq });
      for (const e of this.pending) {
        if (e.seq <= this.lastSeq) continue;
        this.lastSeq = e.seq;
        this.lastId = e.id;
        deliver.push({ event: e, replayed: false });
      }
      gap = false;
    }
    if (!gap) {
      this.current = "live";
      this.pending = [];
      this.emptyGapRounds = 0;
      return { deliver, holes, next: "live" };
    }
    this.pending = this.pending.filter((e) => e.seq > this.lastSeq);
    this.overflowed = false;
    return { deliver, holes, next: "read" };
  }

  /** Live messages may have been lost (the pod's subscriber reconnected): true when a replay must start. */
  resync(): boolean {
    if (this.current !== "live") return false;
    this.current = "replaying";
    this.pending = [];
    this.overflowed = false;
    return true;
  }

  close(): void {
    this.current = "closed";
    this.pending = [];
  }

  /** History was rewritten: forget everything delivered and replay from the oldest retained event. */
  private reset(): void {
    this.current = "replaying";
    this.pending = [];
    this.overflowed = false;
    this.emptyGapRounds = 0;
    this.lastSeq = 0;
    this.lastId = undefined;
    this.fromOldest = true;
  }

  private hold(event: E): void {
    if (this.pending.length < this.limits.maxPending) this.pending.push(this.limits.keep?.(event) ?? event);
    else this.overflowed = true;
  }
}
