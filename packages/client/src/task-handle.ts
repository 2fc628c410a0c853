import type { EnvelopeOf, EventEnvelope, EventType } from "@agentcast/protocol";
import { EMPTY_RUN_TEXT, foldRunText, type RunText } from "./run-text.js";
import type { TaskStream } from "./task-stream.js";

/** Runs whose text a handle keeps (the newest ones). */
const MAX_RUN_TEXTS = 64;

type Listener = (e: EventEnvelope) => void;

/**
 * A view of one task's events for one consumer: `on(type, fn)`, async iteration, `lastSeq`.
 * Events already received (with seq > sinceSeq) are delivered first, then live ones; every seq once.
 */
export class TaskHandle implements AsyncIterable<EventEnvelope> {
  private readonly listeners = new Map<string, Set<Listener>>();
  private readonly resetListeners = new Set<() => void>();
  /** Filled only once iteration starts, so a handle used with `on()` alone holds nothing. */
  private queue: EventEnvelope[] | undefined;
  private readonly waiters: ((r: IteratorResult<EventEnvelope>) => void)[] = [];
  private readonly detach: () => void;
  private readonly detachReset: () => void;
  private closed = false;
  private seen: number;
  /** Each run's text so far, oldest run first (at most MAX_RUN_TEXTS). */
  private readonly texts = new Map<string, RunText>();
  private latestRunId: string | undefined;

  constructor(
    private readonly stream: TaskStream,
    private readonly sinceSeq: number,
    private readonly onClose: (handle: TaskHandle) => void,
  ) {
    this.seen = sinceSeq;
    this.detach = stream.listen((e) => this.push(e));
    this.detachReset = stream.onReset(() => this.reset());
    queueMicrotask(() => {
      // Already-received events go to listeners registered synchronously after creation.
      for (const e of stream.retained) if (e.seq > this.seen) this.push(e);
    });
  }

  get taskId(): string {
    return this.stream.taskId;
  }

  /** seq of the last event this handle delivered. */
  get lastSeq(): number {
    return this.seen;
  }

  /** Listens for one event type (typed: `e.data` is that type's payload), or every event with "*". Returns an unsubscribe function. */
  on<T extends EventType>(type: T, fn: (e: EnvelopeOf<T>) => void): () => void;
  on(type: "*", fn: Listener): () => void;
  on(type: EventType | "*", fn: Listener): () => void {
    let set = this.listeners.get(type);
    if (!set) {
      set = new Set();
      this.listeners.set(type, set);
    }
    set.add(fn);
    return () => set.delete(fn);
  }

  /**
   * Calls `fn` when the task's history was rewritten under this handle (a Redis failover lost events it
   * delivered; see docs/protocol.md `task_reset`): discard what you built from its events. The task's
   * history follows again from its oldest retained event, so seq starts over. Returns an unsubscribe function.
   */
  onReset(fn: () => void): () => void {
    this.resetListeners.add(fn);
    return () => this.resetListeners.delete(fn);
  }

  /**
   * A run's text so far — its answer and its reasoning, deltas already joined — from the events this
   * handle delivered: `runId`'s, or the latest run's. Empty for a run it has not seen.
   */
  text(runId: string | undefined = this.latestRunId): RunText {
    return (runId === undefined ? undefined : this.texts.get(runId)) ?? EMPTY_RUN_TEXT;
  }

  /** Resolves with the next event delivered from now on that matches `predicate`. */
  next(predicate: (e: EventEnvelope) => boolean = () => true): Promise<EventEnvelope> {
    return new Promise((resolve) => {
      const off = this.on("*", (e) => {
        if (!predicate(e)) return;
        off();
        resolve(e);
      });
    });
  }

  /** Stops this view; the client unsubscribes from the task when no view is left. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.detach();
    this.detachReset();
    for (const w of this.waiters.splice(0)) w({ value: undefined, done: true });
    this.onClose(this);
  }

  /** Iterates every event with seq > sinceSeq (as far as the client retained them), then live ones. */
  [Symbol.asyncIterator](): AsyncIterator<EventEnvelope> {
    this.queue ??= this.stream.retained.filter((e) => e.seq > this.sinceSeq && e.seq <= this.seen);
    const queue = this.queue;
    return {
      next: () => {
        const value = queue.shift();
        if (value) return Promise.resolve({ value, done: false });
        if (this.closed) return Promise.resolve({ value: undefined, done: true });
        return new Promise((resolve) => this.waiters.push(resolve));
      },
      return: () => {
        this.close();
        return Promise.resolve({ value: undefined, done: true });
      },
    };
  }

  private reset(): void {
    if (this.closed) return;
    this.seen = 0;
    if (this.queue) this.queue.length = 0;
    this.texts.clear();
    this.latestRunId = undefined;
    for (const fn of this.resetListeners) fn();
  }

  private push(e: EventEnvelope): void {
    if (this.closed || e.seq <= this.seen) return;
    this.seen = e.seq;
    this.foldText(e);
    const waiter = this.waiters.shift();
    if (waiter) waiter({ value: e, done: false });
    else this.queue?.push(e);
    for (const fn of this.listeners.get(e.type) ?? []) fn(e);
    for (const fn of this.listeners.get("*") ?? []) fn(e);
  }

  private foldText(e: EventEnvelope): void {
    let text = this.texts.get(e.runId);
    if (!text) {
      if (this.texts.size >= MAX_RUN_TEXTS) this.texts.delete(this.texts.keys().next().value as string);
      text = EMPTY_RUN_TEXT;
      this.latestRunId = e.runId;
    }
    this.texts.set(e.runId, foldRunText(text, e));
  }
}
