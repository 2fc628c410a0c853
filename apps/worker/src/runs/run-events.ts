import { randomUUID } from "node:crypto";
import { type EventData, type EventEnvelope, type EventType, RunRules } from "@agentcast/protocol";
import type { SilentFailure } from "@agentcast/runtime";
import { type EventPublisher, type Published, StaleRunError, type TaskStore } from "@agentcast/store";
import type { Logger } from "pino";

/** An agent tried to publish an event that breaks the run rules; it was not sent. */
export class InvalidEventError extends Error {
  override name = "InvalidEventError";
}

/** What the run reports to metrics. */
export interface RunObserver {
  published(type: EventType): void;
  /** The task's history went over HISTORY_MAX_LEN: `folded` deltas went into snapshots, `trimmed` other events were dropped. */
  compacted?(folded: number, trimmed: number): void;
  toolFinished(tool: string, durationMs: number): void;
  silentFailure(kind: SilentFailure): void;
  runEnded(outcome: string, durationMs: number): void;
}

export interface RunEventsDeps {
  publisher: EventPublisher;
  tasks: TaskStore;
  observer: RunObserver;
}

interface RunIds {
  taskId: string;
  runId: string;
  userId: string;
}

/** An event of this execution at its index: in doubt after a publish failed without an answer, or kept for a repair. */
interface InDoubt {
  type: EventType;
  data: unknown;
  index: number;
  id: string;
  ts: number;
}

/** Events of a run kept to re-send after a failover lost them (asynchronous replication loses the last ones). */
const REPAIR_WINDOW = 256;
/** Repairs in a row a single event may trigger before its publish fails (each one follows another failover). */
const MAX_REPAIRS_PER_EVENT = 3;

/**
 * The events of one run execution, published one at a time. Every step runs in one serial queue, so
 * checking the run rules, publishing and applying the event are one step that no other event of the run
 * can interleave with. Each event carries this execution's owner token (random per job attempt) and its
 * index in the run; the publish script publishes each index once and refuses other owners, so a resend is
 * never a second copy and a zombie execution cannot publish (lua/publish-events-n.lua).
 *
 * A Redis failover can lose the run's last events (replication is asynchronous): the promoted replica
 * then answers `out_of_order` with the index it expects. The execution re-sends the events it still
 * holds from there — same index, id, ts and data, so each gets the seq it had and history is restored
 * as it was — then the event at hand (`repair`).
 */
export class RunEvents {
  /** When the last event was published (the watchdog's clock). */
  lastEventAt = Date.now();
  private readonly owner = randomUUID();
  private readonly rules = new RunRules();
  private readonly toolStarts = new Map<string, number>();
  private next = 0;
  private tail: Promise<unknown> = Promise.resolve();
  private inDoubt: InDoubt | undefined;
  /** This execution's last published events, oldest first (at most REPAIR_WINDOW). */
  private readonly sent: InDoubt[] = [];

  constructor(
    private readonly run: RunIds,
    private readonly deps: RunEventsDeps,
    private readonly log: Logger,
  ) {}

  /** Runs `step` after every step queued before it has settled; a failed step does not stop the queue. */
  serial<T>(step: () => Promise<T>): Promise<T> {
    const result = this.tail.then(step);
    this.tail = result.catch(() => undefined);
    return result;
  }

  /** Call inside a step: checks the rules, publishes at the run's next index, applies the event. */
  async publish<T extends EventType>(type: T, data: EventData<T>): Promise<void> {
    if (this.inDoubt) await this.resolveDoubt(this.inDoubt);
    const why = this.rules.check(type, data);
    if (why) {
      this.deps.observer.silentFailure("invalid_event");
      this.log.error({ type, reason: why }, "agent produced an invalid event; not sent");
      throw new InvalidEventError(why);
    }
    await this.send({ type, data, index: this.next, id: randomUUID(), ts: Date.now() });
  }

  /** Tool calls executing now, as [toolCallId, tool, startedAtMs]. */
  get openToolCalls(): [toolCallId: string, tool: string, startedAtMs: number][] {
    return this.rules.openToolCalls.map(([id, tool]) => [id, tool, this.toolStarts.get(id) ?? Date.now()]);
  }

  /**
   * Takes over a run whose worker stopped: becomes its owner (fencing the previous execution off), then
   * replays its retained events into the rules (read after the claim, so none can follow unseen) and
   * continues at its next index.
   */
  async takeOver(readEvents: () => Promise<readonly EventEnvelope[]>): Promise<void> {
    this.next = await this.deps.tasks.claimRun(this.run.taskId, this.run.runId, this.owner);
    const events = await readEvents();
    if (events[0]?.type !== "agent_started") this.rules.apply("agent_started", { input: "" }); // trimmed from history
    for (const e of events) if (this.rules.check(e.type, e.data) === null) this.rules.apply(e.type, e.data);
  }

  /** A publish that failed with no answer may have landed: send the same event at the same index before anything else. */
  private async resolveDoubt(event: InDoubt): Promise<void> {
    this.log.warn({ type: event.type, index: event.index }, "re-sending an event whose publish failed, before the next one");
    await this.send(event);
  }

  private async send(event: InDoubt, repairs = 0): Promise<void> {
    const { type, data, index, id, ts } = event;
    let published: Published;
    try {
      published = await this.deps.publisher.publish({
        ...this.run,
        type,
        data: data as EventData<typeof type>,
        position: { owner: this.owner, index },
        id,
        ts,
      });
    } catch (err) {
      if (err instanceof StaleRunError) {
        this.inDoubt = undefined; // a definite answer: that index was not published
        if (this.canRepair(err, index) && repairs < MAX_REPAIRS_PER_EVENT) return this.repair(err.expectedIndex ?? index, event, repairs);
      } else {
        this.inDoubt = event;
        this.deps.observer.silentFailure("publish_failed");
        this.log.error({ err, type }, "event could not be published");
      }
      throw err;
    }
    this.inDoubt = undefined;
    this.applyPublished(event, published);
  }

  /** An `out_of_order` refusal for an index behind ours, whose events from there this execution still holds. */
  private canRepair(err: StaleRunError, index: number): boolean {
    const from = err.expectedIndex;
    if (err.reason !== "out_of_order" || from === undefined || from >= index) return false;
    const oldest = this.sent[0]?.index;
    return oldest !== undefined && oldest <= from;
  }

  /**
   * Redis lost this run's events from index `from` on (a failover promoted a replica that had not got
   * them): publish them again as they were, then `event`. Each gets back the seq it had, so a client
   * that saw them live sees the same events again and keeps one copy of each.
   */
  private async repair(from: number, event: InDoubt, repairs: number): Promise<void> {
    const lost = this.sent.filter((e) => e.index >= from && e.index < event.index);
    this.deps.observer.silentFailure("failover_lost_events");
    this.log.warn({ from, to: event.index - 1, resending: lost.length }, "Redis lost this run's last events (failover): re-sending them");
    this.sent.splice(
      Math.max(
        0,
        this.sent.findIndex((e) => e.index >= from),
      ),
    );
    for (const e of lost) await this.send(e, repairs + 1);
    await this.send(event, repairs + 1);
  }

  /** The event is in history: remember it (for a repair), advance the run, apply it to the rules. */
  private applyPublished(event: InDoubt, published: Published): void {
    const { type, data, index } = event;
    // A replica has everything up to this event: a failover cannot take those back.
    if (published.replicas !== undefined && !published.unreplicated) this.sent.length = 0;
    else if (this.sent.at(-1)?.index !== index) this.sent.push(event);
    if (this.sent.length > REPAIR_WINDOW) this.sent.shift();
    if (index < this.next) return; // re-sent by a repair: already applied
    this.next = index + 1;
    this.rules.apply(type, data);
    if (type === "tool_executing") this.toolStarts.set((data as EventData<"tool_executing">).toolCallId, Date.now());
    this.lastEventAt = Date.now();
    this.deps.observer.published(type);
    this.reportCompaction(published);
    if (published.unreplicated) {
      this.deps.observer.silentFailure("unreplicated_event");
      // A timeout is worth a line; the events its master publishes without waiting afterwards are counted only.
      if (published.replicas !== undefined)
        this.log.warn({ type, replicas: published.replicas }, "event published before its replicas acknowledged it (WAIT timed out)");
    }
    if (published.receivers === 0 && !published.duplicate) {
      this.deps.observer.silentFailure("unrouted_event");
      this.log.debug({ type }, "event published while no gateway held the task room");
    }
  }

  private reportCompaction({ compaction }: Published): void {
    if (!compaction) return;
    if ("failed" in compaction) {
      this.deps.observer.silentFailure("history_compaction_failed");
      this.log.warn({ err: compaction.failed }, "history over its bound could not be compacted; the next event tries again");
      return;
    }
    this.deps.observer.compacted?.(compaction.folded, compaction.trimmed);
    if (compaction.trimmed > 0)
      this.log.info({ trimmed: compaction.trimmed }, "history over its bound: oldest events that are not deltas dropped");
  }
}
