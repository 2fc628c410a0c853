/** Event types whose `delta`s stream token by token and are merged before they are published. */
export type DeltaType = "agent_output" | "agent_thinking";

export interface CoalesceOptions {
  /** OUTPUT_COALESCE_MS: a window opens at the first buffered delta and closes this much later (0 = off). */
  windowMs: number;
  /** OUTPUT_COALESCE_MAX_BYTES: pending text this large (UTF-8) is published at once. */
  maxBytes: number;
}

/** Deltas merged so far: one event's worth. */
export interface PendingDelta {
  type: DeltaType;
  text: string;
}

/**
 * Merges consecutive deltas of one type of one run into one event. The window opens at the first
 * buffered delta and closes `windowMs` later — not a debounce: a steady stream flushes every window — or
 * earlier once `maxBytes` are pending, or when a delta of the other type arrives. It holds no I/O of its
 * own: `flush` is the owner's and publishes in the run's serial queue. Order: whoever queues another
 * event takes what is pending at that moment (`take()`) and publishes it first in the same step, so
 * deltas and events go out in the order the agent produced them.
 */
export class DeltaCoalescer {
  private pending: PendingDelta | undefined;
  private bytes = 0;
  private timer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly opts: CoalesceOptions,
    /**
     * Queues a step that publishes `taken` — or, without it, whatever is pending when the step runs (a
     * window that closed: deltas added until then join it). Resolves once the step ran.
     */
    private readonly flush: (taken?: PendingDelta) => Promise<void>,
  ) {}

  get enabled(): boolean {
    return this.opts.windowMs > 0;
  }

  /**
   * Buffers a delta. Returns the flush it caused (the other type was pending, or `maxBytes` reached), for
   * the caller to await — an agent producing faster than events can be published waits there — else
   * undefined: the delta goes out when the window closes.
   */
  add(type: DeltaType, delta: string): Promise<void> | undefined {
    let flushed: Promise<void> | undefined;
    // The other type is pending: it goes out first, as it is now.
    if (this.pending && this.pending.type !== type) flushed = this.flush(this.take());
    if (!this.pending) {
      this.pending = { type, text: "" };
      this.bytes = 0;
      this.timer = setTimeout(() => void this.flushNow().catch(() => undefined), this.opts.windowMs);
    }
    this.pending.text += delta;
    this.bytes += Buffer.byteLength(delta);
    if (this.bytes >= this.opts.maxBytes) return this.flushNow();
    return flushed;
  }

  /** What is pending, cleared: the owner publishes it (inside its serial step). */
  take(): PendingDelta | undefined {
    const pending = this.pending;
    this.pending = undefined;
    this.bytes = 0;
    clearTimeout(this.timer);
    this.timer = undefined;
    return pending;
  }

  /** Closes the window now: queues the owner's flush step. */
  private flushNow(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    return this.flush();
  }

  /** The run is over: no timer may fire after it. */
  close(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }
}
