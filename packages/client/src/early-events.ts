import type { EventEnvelope } from "@agentcast/protocol";

/** A `send` in flight: the task it follows up (undefined: it creates one) and whether it lost events. */
interface PendingSend {
  taskId: string | undefined;
  lossy: boolean;
}

/** Events kept for one task, and the newest send already in flight when the last of them arrived. */
interface Entry {
  events: EventEnvelope[];
  newestSendId: number;
}

/** The result of `add`: kept, dropped at the bound (a send that may own it lost it), or owned by no send. */
export type EarlyOutcome = "kept" | "dropped" | "unexpected";

/**
 * Events that arrive for a task before the client has a stream for it: a run's first events can
 * come with (or before) the ack of the `send` that started it. They are kept only while a send
 * that may own them is in flight — a new task's send may own any task's events, a follow-up only
 * its task's — and at most `maxEvents` of them across all tasks (so at most that many tasks).
 * An event past the bound is dropped and every send that may own it is marked lossy: its stream
 * must re-read the task from history. When a send ends, events no send still in flight can own
 * are forgotten: an event that arrived before a send started was published before that send's
 * run existed, so that send never needs it.
 */
export class EarlyEvents {
  private nextSendId = 1;
  private readonly sends = new Map<number, PendingSend>();
  private readonly byTask = new Map<string, Entry>();
  private eventCount = 0;

  constructor(private readonly maxEvents: number) {}

  /** A send starts (`taskId` for a follow-up); returns its id for `end`. */
  begin(taskId?: string): number {
    const id = this.nextSendId++;
    this.sends.set(id, { taskId, lossy: false });
    return id;
  }

  /** Keeps `e` if a send in flight may own it and the bound allows. */
  add(e: EventEnvelope): EarlyOutcome {
    const owners = [...this.sends.values()].filter((s) => s.taskId === undefined || s.taskId === e.taskId);
    if (owners.length === 0) return "unexpected";
    if (this.eventCount >= this.maxEvents) {
      for (const s of owners) s.lossy = true;
      return "dropped";
    }
    const entry = this.byTask.get(e.taskId) ?? { events: [], newestSendId: 0 };
    entry.events.push(e);
    entry.newestSendId = this.nextSendId - 1;
    this.byTask.set(e.taskId, entry);
    this.eventCount++;
    return "kept";
  }

  /** Hands over (and forgets) the events kept for `taskId`, in arrival order. */
  take(taskId: string): EventEnvelope[] {
    const entry = this.byTask.get(taskId);
    if (!entry) return [];
    this.byTask.delete(taskId);
    this.eventCount -= entry.events.length;
    return entry.events;
  }

  /**
   * The send ended (answered or failed). Returns whether it lost events to the bound, and the tasks
   * whose events were forgotten because no send in flight can own them any more.
   */
  end(sendId: number): { lossy: boolean; forgotten: string[] } {
    const send = this.sends.get(sendId);
    this.sends.delete(sendId);
    const forgotten: string[] = [];
    for (const [taskId, entry] of this.byTask) {
      if (this.ownable(taskId, entry.newestSendId)) continue;
      this.take(taskId);
      forgotten.push(taskId);
    }
    return { lossy: send?.lossy ?? false, forgotten };
  }

  /** Whether a send for `taskId` (a follow-up on it) is in flight. */
  followsUp(taskId: string): boolean {
    for (const s of this.sends.values()) if (s.taskId === taskId) return true;
    return false;
  }

  get tasks(): number {
    return this.byTask.size;
  }

  get events(): number {
    return this.eventCount;
  }

  /** A send in flight that had started when the entry's last event arrived may own it. */
  private ownable(taskId: string, newestSendId: number): boolean {
    for (const [id, s] of this.sends) if (id <= newestSendId && (s.taskId === undefined || s.taskId === taskId)) return true;
    return false;
  }
}
