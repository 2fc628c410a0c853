import type { AgentcastClient } from "@agentcast/client";
import type { EventEnvelope } from "@agentcast/protocol";
import { EMPTY_VIEW, reduceFields, type TaskFields, type TaskView } from "./task-state.js";

export interface TaskViewOptions {
  /** Newest events kept in `events`; older ones leave it (status, progress, question and error still follow every event). */
  maxEvents: number;
  /** Events are published together: at most one new view per this many ms. */
  batchMs: number;
}

/**
 * One task's view for `useSyncExternalStore`, built at O(1) amortised cost per event: each event
 * updates the fields and lands in a bounded buffer; a new view (with a fresh `events` array of at
 * most `maxEvents`) is published at most once per `batchMs` — the first event after a quiet spell
 * at the end of its task (a microtask), the rest of a busy stream together at the end of each window.
 */
export class TaskViewStore {
  private fields: TaskFields = EMPTY_VIEW;
  /** Events in seq order; the kept ones start at `start` (compacted once `start` reaches maxEvents). */
  private buffer: EventEnvelope[] = [];
  private start = 0;
  private lastSeq = 0;
  private view: TaskView = EMPTY_VIEW;
  private dirty = false;
  private scheduled = false;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private lastPublishAt = Number.NEGATIVE_INFINITY;
  private following = false;
  private readonly listeners = new Set<() => void>();

  constructor(
    private readonly client: AgentcastClient,
    private readonly taskId: string | undefined,
    private readonly opts: TaskViewOptions,
  ) {
    if (!(opts.maxEvents >= 1)) throw new RangeError("maxEvents must be at least 1");
  }

  readonly subscribe = (onChange: () => void): (() => void) => {
    this.listeners.add(onChange);
    return () => this.listeners.delete(onChange);
  };

  readonly getSnapshot = (): TaskView => this.view;

  /** Follows the task (a client handle) until the returned function is called. */
  follow(): () => void {
    if (this.taskId === undefined) return () => {};
    const handle = this.client.subscribe(this.taskId);
    this.following = true;
    const off = handle.on("*", (e) => this.push(e));
    const offReset = handle.onReset(() => this.reset());
    return () => {
      this.following = false;
      clearTimeout(this.timer);
      this.scheduled = false;
      off();
      offReset();
      handle.close();
    };
  }

  /** The task's history was rewritten (task_reset): the view starts over from the events that follow. */
  private reset(): void {
    this.fields = EMPTY_VIEW;
    this.buffer = [];
    this.start = 0;
    this.lastSeq = 0;
    this.dirty = true;
    this.schedule();
  }

  private push(e: EventEnvelope): void {
    if (e.seq <= this.lastSeq) return; // seen already (a handle opened again delivers from the start)
    this.lastSeq = e.seq;
    this.fields = reduceFields(this.fields, e);
    this.buffer.push(e);
    if (this.buffer.length - this.start > this.opts.maxEvents) this.start++;
    if (this.start >= this.opts.maxEvents) {
      this.buffer = this.buffer.slice(this.start); // maxEvents copies once per maxEvents events
      this.start = 0;
    }
    this.dirty = true;
    this.schedule();
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    const waitMs = this.lastPublishAt + this.opts.batchMs - Date.now();
    if (waitMs <= 0) queueMicrotask(this.publish);
    else this.timer = setTimeout(this.publish, waitMs);
  }

  private readonly publish = (): void => {
    if (!this.scheduled) return; // cancelled by the end of `follow`
    this.scheduled = false;
    if (!this.following || !this.dirty) return;
    this.dirty = false;
    this.lastPublishAt = Date.now();
    this.view = { ...this.fields, events: this.buffer.slice(this.start) };
    for (const fn of this.listeners) fn();
  };
}
