import type { Supervised } from "@agentcast/runtime";
import type { Logger } from "pino";
import type { Namespace, Socket } from "socket.io";
import { CommandError } from "../commands/command-error.js";
import type { HistoryPage, HistoryPages } from "./history-pages.js";
import type { OutboundEvent } from "./outbound-event.js";
import type { SlowConsumers } from "./slow-consumers.js";
import { SocketViewer } from "./socket-viewer.js";
import { Subscription, type SubscriptionStart, type TaskPosition } from "./subscription.js";
import { SubscriptionLease } from "./subscription-lease.js";
import type { Viewer } from "./viewer.js";

/** One viewer's subscription, as the registry holds it. */
export interface Entry {
  readonly viewer: Viewer;
  readonly room: string;
  readonly sub: Subscription<OutboundEvent>;
}

export interface SubscriptionRegistryOptions {
  nsp: Namespace;
  history: HistoryPages;
  slowConsumers: SlowConsumers;
  /** Resolves once this pod's Redis subscription to the room's channel is confirmed. */
  confirmRoom: (room: string) => Promise<void>;
  /** The task's lastSeq and the seq of its oldest retained event. */
  readPosition: (taskId: string) => Promise<TaskPosition>;
  supervisor: Supervised;
  logger: Logger;
  onDelivered?: (event: OutboundEvent, replayed: boolean) => void;
  /** Events were lost to this viewer for good (history hole), writing to it threw, or history was rewritten under it (task_reset). */
  onProblem?: (kind: "sequence_gap" | "emit_error" | "history_rewritten") => void;
  /** Tasks one viewer may follow at once. */
  maxSubscriptionsPerSocket: number;
  /** Live events held per subscription while it replays. */
  maxPendingPerSubscription?: number;
  /** Failed history reads in a row before the viewer is disconnected (it resumes after reconnecting). */
  maxReplayRetries?: number;
  /**
   * A replay waiting for its viewer to take what it was sent closes the viewer as a slow consumer when
   * its unsent bytes have not gone down for this long (default 5000 ms).
   */
  replayStallMs?: number;
}

/** How often a replay waiting for room looks at its viewer's unsent bytes. */
const ROOM_POLL_MS = 10;

/**
 * Every subscription of this gateway, and the one owner of their lives: it opens them (through a
 * lease a command handler or an HTTP stream holds with `await using`), feeds them live events and
 * history pages, writes what they decide to their viewers (sockets, HTTP streams), and closes them.
 * Every replay runs under the supervisor: a failure is logged and counted, and the viewer is
 * disconnected so its client resumes.
 */
export class SubscriptionRegistry {
  private readonly byViewer = new Map<string, Map<string, Entry>>();
  /** Places taken by leases that have not opened their subscription yet, per viewer. */
  private readonly reserved = new Map<string, number>();
  private readonly socketViewers = new WeakMap<Socket, SocketViewer>();

  constructor(private readonly opts: SubscriptionRegistryOptions) {}

  /** The socket as a viewer (one per socket). */
  viewerOf(socket: Socket): Viewer {
    let viewer = this.socketViewers.get(socket);
    if (!viewer) {
      viewer = new SocketViewer(socket, this.opts.slowConsumers);
      this.socketViewers.set(socket, viewer);
    }
    return viewer;
  }

  /** A lease to open one subscription for `viewer` (see SubscriptionLease); it holds no place yet. */
  lease(viewer: Viewer): SubscriptionLease {
    return new SubscriptionLease(this, viewer);
  }

  has(viewerId: string, taskId: string): boolean {
    return this.byViewer.get(viewerId)?.has(taskId) ?? false;
  }

  unsubscribe(viewer: Viewer, taskId: string): void {
    const entry = this.byViewer.get(viewer.id)?.get(taskId);
    if (entry) this.remove(entry);
  }

  /** Forgets a viewer that is gone (a disconnected socket has already left its rooms; `leave` makes sure). */
  dropViewer(viewerId: string): void {
    const subs = this.byViewer.get(viewerId);
    if (!subs) return;
    this.byViewer.delete(viewerId);
    for (const entry of subs.values()) {
      entry.sub.close();
      entry.viewer.leave(entry.room);
    }
  }

  /** Subscriptions held now (all phases). */
  get size(): number {
    let n = 0;
    for (const subs of this.byViewer.values()) n += subs.size;
    return n;
  }

  /** A live event for a task room this pod holds (from the adapter hook); encoded once for all its sockets. */
  onLiveEvent(taskId: string, room: string, event: OutboundEvent): void {
    const sids = this.opts.nsp.adapter.rooms.get(room);
    if (!sids) return;
    for (const sid of sids) {
      const entry = this.byViewer.get(sid)?.get(taskId);
      if (!entry) continue;
      const lastSeq = entry.sub.lastSeq;
      const action = entry.sub.offer(event);
      if (action === "deliver") this.write(entry, event, false);
      else if (action === "gap") {
        // A live message was lost (e.g. a Redis reconnect): fill the gap from history.
        this.opts.logger.warn({ taskId, socketId: sid, lastSeq, gotSeq: event.seq }, "live gap; replaying from history");
        this.replay(entry);
      } else if (action === "verify") {
        // An event this socket already has, or one that took its seq after a failover: history tells.
        this.opts.logger.info({ taskId, socketId: sid, lastSeq, gotSeq: event.seq }, "older seq live; checking history");
        this.replay(entry);
      } else if (action === "reset") {
        this.rewritten(entry, lastSeq);
        this.replay(entry);
      }
    }
  }

  /**
   * The pod's Redis subscriber connection was re-established: live messages published while it was
   * down are lost. Every live subscription re-reads history from its last seq once its room is
   * confirmed again.
   */
  resyncAll(): void {
    const byRoom = new Map<string, Entry[]>();
    for (const subs of this.byViewer.values())
      for (const entry of subs.values()) byRoom.set(entry.room, [...(byRoom.get(entry.room) ?? []), entry]);
    for (const [room, entries] of byRoom) {
      this.opts.supervisor.run(
        "resync",
        async () => {
          await this.opts.confirmRoom(room);
          for (const entry of entries) if (entry.sub.resync()) this.replay(entry);
        },
        { room },
        // Not re-confirmed: these viewers may miss live events; their clients resume after a reconnect.
        () => {
          for (const entry of entries) this.disconnect(entry.viewer);
        },
      );
    }
    if (byRoom.size > 0) this.opts.logger.info({ rooms: byRoom.size }, "subscriber reconnected: resyncing subscriptions from history");
  }

  // ---- used by SubscriptionLease ----

  /** Adds a subscription in `joining`, in the place the lease reserved: the viewer joins the room now. */
  add(viewer: Viewer, taskId: string, room: string, sinceSeq: number, sinceId?: string): Entry {
    this.release(viewer.id);
    const sub = new Subscription<OutboundEvent>(
      taskId,
      sinceSeq,
      { maxPending: this.opts.maxPendingPerSubscription ?? 10_000, keep: (e) => e.detached() },
      sinceId,
    );
    const entry: Entry = { viewer, room, sub };
    const subs = this.byViewer.get(viewer.id) ?? new Map<string, Entry>();
    this.byViewer.set(viewer.id, subs);
    subs.set(taskId, entry);
    viewer.join(room);
    return entry;
  }

  /** Confirms the room and reads where the task stands: joining → replaying (live events held). */
  async join(entry: Entry): Promise<SubscriptionStart> {
    await this.opts.confirmRoom(entry.room);
    const position = await this.opts.readPosition(entry.sub.taskId);
    if (entry.sub.phase === "closed") return { lastSeq: position.lastSeq };
    return entry.sub.joined(position);
  }

  /** The lease's command succeeded: the subscription replays history, then goes live. */
  commit(entry: Entry): void {
    if (entry.sub.phase === "replaying") this.replay(entry);
  }

  position(taskId: string): Promise<TaskPosition> {
    return this.opts.readPosition(taskId);
  }

  /** Reserves a place under the viewer's subscription cap, or refuses with limit_exceeded (nothing changes). */
  reserve(viewerId: string): void {
    const max = this.opts.maxSubscriptionsPerSocket;
    if ((this.byViewer.get(viewerId)?.size ?? 0) + (this.reserved.get(viewerId) ?? 0) >= max) {
      throw new CommandError("limit_exceeded", `A socket may follow at most ${max} tasks; unsubscribe from one first`);
    }
    this.reserved.set(viewerId, (this.reserved.get(viewerId) ?? 0) + 1);
  }

  release(viewerId: string): void {
    const n = (this.reserved.get(viewerId) ?? 1) - 1;
    if (n > 0) this.reserved.set(viewerId, n);
    else this.reserved.delete(viewerId);
  }

  /** Closes a subscription and leaves its room. */
  remove(entry: Entry): void {
    entry.sub.close();
    const subs = this.byViewer.get(entry.viewer.id);
    if (subs?.get(entry.sub.taskId) !== entry) return;
    subs.delete(entry.sub.taskId);
    if (subs.size === 0) this.byViewer.delete(entry.viewer.id);
    entry.viewer.leave(entry.room);
  }

  // ---- internals ----

  /** Starts the replay loop of a subscription that is replaying, under the supervisor. */
  private replay(entry: Entry): void {
    const { viewer, sub } = entry;
    this.opts.supervisor.run(
      "replay",
      () => this.replayLoop(entry),
      { taskId: sub.taskId, socketId: viewer.id },
      () => this.disconnect(viewer),
    );
  }

  private async replayLoop(entry: Entry): Promise<void> {
    const { sub, viewer } = entry;
    const maxRetries = this.opts.maxReplayRetries ?? 5;
    let failures = 0;
    while (sub.phase === "replaying") {
      let page: HistoryPage;
      const lastSeq = sub.lastSeq;
      try {
        page = await this.opts.history.after(sub.taskId, sub.replayAfter);
      } catch (err) {
        failures += 1;
        if (failures > maxRetries) throw new Error(`history of ${sub.taskId} unreadable after ${failures} attempts`, { cause: err });
        this.opts.logger.warn({ err, taskId: sub.taskId, socketId: viewer.id, failures }, "history read failed; retrying");
        await new Promise((r) => setTimeout(r, 50 * 2 ** failures));
        continue;
      }
      // Backpressure: the page is written only once the viewer has room for it. Live events wait in the
      // subscription meanwhile, so the order holds; the page's writes are not held to the outbound bound.
      if (!(await this.roomFor(entry, page.bytes))) return;
      const step = sub.replayed(page.events, page.full, page.foldedThrough);
      if (step.reset) this.rewritten(entry, lastSeq);
      for (const hole of step.holes) {
        this.opts.onProblem?.("sequence_gap");
        const line = { taskId: sub.taskId, socketId: viewer.id, after: hole.after, next: hole.next };
        if (hole.kind === "trimmed") this.opts.logger.warn(line, "history trimmed during replay");
        else this.opts.logger.warn(line, "events missing from history; skipping the hole");
      }
      for (const { event, replayed } of step.deliver) if (!this.write(entry, event, replayed)) return;
    }
  }

  /**
   * Waits until the viewer has room for a page of `bytes` (see `Viewer.hasRoomFor`). A viewer that is
   * gone, or whose unsent bytes do not go down for `replayStallMs`, ends the replay (false); the stalled
   * one is closed as a slow consumer and resumes from its last seq when its client reads again.
   */
  private async roomFor(entry: Entry, bytes: number): Promise<boolean> {
    const { viewer, sub } = entry;
    const stallMs = this.opts.replayStallMs ?? 5_000;
    let least = viewer.unsentBytes();
    let progressAt = Date.now();
    while (!viewer.hasRoomFor(bytes)) {
      if (sub.phase === "closed") return false;
      if (!viewer.isWritable()) {
        this.dropViewer(viewer.id);
        return false;
      }
      const unsent = viewer.unsentBytes();
      if (unsent < least) {
        least = unsent;
        progressAt = Date.now();
      } else if (Date.now() - progressAt >= stallMs) {
        this.opts.logger.warn({ taskId: sub.taskId, socketId: viewer.id, unsent }, "replay stalled: the viewer does not read");
        this.dropViewer(viewer.id);
        viewer.closeSlow();
        return false;
      }
      await new Promise((r) => setTimeout(r, ROOM_POLL_MS));
    }
    return sub.phase === "replaying";
  }

  /**
   * Writes one event to one viewer. A viewer that is no longer connected, or whose connection is
   * closing, gets nothing (Engine.IO would drop the write silently and it would count as delivered):
   * its subscriptions end, and the client resumes from its last seq when it reconnects. A viewer past
   * the outbound bound when a live event comes is closed as a slow consumer. A write that throws is `emit_error`: the
   * connection is closed at once, discarding what is queued on it.
   */
  private write(entry: Entry, event: OutboundEvent, replayed: boolean): boolean {
    const { viewer } = entry;
    if (!viewer.isWritable()) {
      this.dropViewer(viewer.id);
      return false;
    }
    // A replayed page waited for room before it was written (see `roomFor`); only live writes meet the bound.
    if (!replayed && viewer.isBackedUp()) {
      this.dropViewer(viewer.id);
      viewer.closeSlow();
      return false;
    }
    try {
      viewer.write(event);
    } catch (err) {
      this.opts.onProblem?.("emit_error");
      this.opts.logger.error(
        { err, taskId: entry.sub.taskId, socketId: viewer.id, seq: event.seq },
        "emit failed; closing the connection so the client resumes",
      );
      this.dropViewer(viewer.id);
      viewer.closeNow();
      return false;
    }
    this.opts.onDelivered?.(event, replayed);
    return true;
  }

  /**
   * History no longer holds the event this viewer was given at `lastSeq` (a failover lost it, and
   * maybe another event took its seq): the viewer is told to discard the task's events, before the
   * replay from the oldest retained event that follows on the same connection.
   */
  private rewritten(entry: Entry, lastSeq: number): void {
    const { viewer, sub } = entry;
    this.opts.onProblem?.("history_rewritten");
    this.opts.logger.warn({ taskId: sub.taskId, socketId: viewer.id, lastSeq }, "history was rewritten under this viewer; task_reset");
    viewer.reset(sub.taskId);
  }

  private disconnect(viewer: Viewer): void {
    this.dropViewer(viewer.id);
    viewer.disconnect();
  }
}
