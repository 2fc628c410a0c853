/**
 * One socket's subscription to one task, as a state machine with no I/O:
 *
 *   joining ──joined()──▶ replaying ──replayed(last page, no gap)──▶ live
 *                           ▲   │                                     │
 *                           │   └─replayed(full page, or a gap)──▶ (replaying: read again)
 *                           └──────────── offer(): a live gap / resync() ┘
 *   any ──close()──▶ closed
 *
 * Joining: the socket is in the room and the pod's Redis subscription is being confirmed. From then
 * on every event is either in what history returns afterwards or arrives live, so live events are
 * held back (bounded) while history is replayed, then merged by seq. Nothing is delivered twice:
 * `lastSeq` is the highest seq handed out for delivery. The owner (the registry) does the reads and
 * writes and feeds their results in.
 */
export type Phase = "joining" | "replaying" | "live" | "closed";

export interface Sequenced {
  readonly seq: number;
}

/** What the ack of a subscribe says about where the subscription starts. */
export interface SubscriptionStart {
  lastSeq: number;
  truncated?: true;
  firstSeq?: number;
}

/** What to do with a live event now. */
export type LiveAction = "deliver" | "hold" | "drop" | "gap";

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
}

/** Rounds of empty history reads, with live events waiting behind a gap, before the hole is skipped. */
const EMPTY_GAP_ROUNDS = 3;

export class Subscription<E extends Sequenced> {
  private current: Phase = "joining";
  private pending: E[] = [];
  /** Live events were dropped because `pending` was full: history must be read again. */
  private overflowed = false;
  private emptyGapRounds = 0;
  /** Highest seq handed out for delivery (or skipped as truncated). */
  lastSeq: number;

  constructor(
    readonly taskId: string,
    sinceSeq: number,
    private readonly limits: {
      /** Live events held back while replaying; beyond it they are dropped and history is read again. */
      maxPending: number;
      /** What is kept of an event held back past this tick (e.g. a copy that does not pin a larger buffer). */
      keep?: (event: E) => E;
    },
  ) {
    this.lastSeq = sinceSeq;
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
  joined(position: { lastSeq: number; firstSeq: number | undefined }): SubscriptionStart {
    if (this.current !== "joining") throw new Error(`joined() in phase ${this.current}`);
    this.current = "replaying";
    const start: SubscriptionStart = { lastSeq: position.lastSeq };
    if (this.lastSeq < position.lastSeq) {
      const firstSeq = position.firstSeq ?? position.lastSeq + 1;
      if (firstSeq > this.lastSeq + 1) {
        start.truncated = true;
        start.firstSeq = firstSeq;
        this.lastSeq = firstSeq - 1;
      }
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
          return "deliver";
        }
        if (event.seq <= this.lastSeq) return "drop";
        this.current = "replaying";
        this.pending = [this.limits.keep?.(event) ?? event];
        this.overflowed = false;
        return "gap";
    }
  }

  /**
   * A page of history after `lastSeq` was read (`full`: it had as many entries as were asked for).
   * Returns what to write now and whether to read again; once history is exhausted the held live
   * events are merged, and the subscription goes live unless one is still missing.
   */
  replayed(page: readonly E[], full: boolean): ReplayStep<E> {
    if (this.current !== "replaying") return { deliver: [], holes: [], next: this.current === "live" ? "live" : "read" };
    const deliver: { event: E; replayed: boolean }[] = [];
    const holes: ReplayStep<E>["holes"] = [];
    for (const e of page) {
      if (e.seq <= this.lastSeq) continue;
      if (e.seq > this.lastSeq + 1) holes.push({ kind: "trimmed", after: this.lastSeq, next: e.seq });
      this.lastSeq = e.seq;
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
      deliver.push({ event: e, replayed: false });
    }
    if (gap && page.length === 0 && !this.overflowed && ++this.emptyGapRounds > EMPTY_GAP_ROUNDS) {
      // History lacks events that live delivery skipped (deleted or expired): go on in order.
      const next = this.pending.find((e) => e.seq > this.lastSeq);
      if (next) holes.push({ kind: "skipped", after: this.lastSeq, next: next.seq });
      for (const e of this.pending) {
        if (e.seq <= this.lastSeq) continue;
        this.lastSeq = e.seq;
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

  private hold(event: E): void {
    if (this.pending.length < this.limits.maxPending) this.pending.push(this.limits.keep?.(event) ?? event);
    else this.overflowed = true;
  }
}
