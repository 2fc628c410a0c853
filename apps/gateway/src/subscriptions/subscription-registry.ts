import type { Supervised } from "@agentcast/runtime";
import type { Logger } from "pino";
import type { Namespace, Socket } from "socket.io";
import { CommandError } from "../commands/command-error.js";
import { closeNow, isWritable } from "../socketio/internals.js";
import type { HistoryPage, HistoryPages } from "./history-pages.js";
import type { OutboundEvent } from "./outbound-event.js";
import type { SlowConsumers } from "./slow-consumers.js";
import { Subscription, type SubscriptionStart, type TaskPosition } from "./subscription.js";
import { SubscriptionLease } from "./subscription-lease.js";

/** One socket's subscription, as the registry holds it. */
export interface Entry {
  readonly socket: Socket;
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
  /** Events were lost to this socket for good (history hole), writing to it threw, or history was rewritten under it (task_reset). */
  onProblem?: (kind: "sequence_gap" | "emit_error" | "history_rewritten") => void;
  /** Tasks one socket may follow at once. */
  maxSubscriptionsPerSocket: number;
  /** Live events held per subscription while it replays. */
  maxPendingPerSubscription?: number;
  /** Failed history reads in a row before the socket is disconnected (it resumes after reconnecting). */
  maxReplayRetries?: number;
}

/**
 * Every subscription of this gateway, and the one owner of their lives: it opens them (through a
 * lease a command handler holds with `await using`), feeds them live events and history pages,
 * writes what they decide to their sockets, and closes them. Every replay runs under the supervisor:
 * a failure is logged and counted, and the socket is disconnected so its client resumes.
 */
export class SubscriptionRegistry {
  private readonly bySocket = new Map<string, Map<string, Entry>>();
  /** Places taken by leases that have not opened their subscription yet, per socket. */
  private readonly reserved = new Map<string, number>();

  constructor(private readonly opts: SubscriptionRegistryOptions) {}

  /** A lease to open one subscription for `socket` (see SubscriptionLease); it holds no place yet. */
  lease(socket: Socket): SubscriptionLease {
    return new SubscriptionLease(this, socket);
  }

  has(socketId: string, taskId: string): boolean {
    return this.bySocket.get(socketId)?.has(taskId) ?? false;
  }

  unsubscribe(socket: Socket, taskId: string): void {
    const entry = this.bySocket.get(socket.id)?.get(taskId);
    if (entry) this.remove(entry);
  }

  /** Forgets a disconnected socket (Socket.IO has already removed it from its rooms). */
  dropSocket(socketId: string): void {
    const subs = this.bySocket.get(socketId);
    if (!subs) return;
    for (const entry of subs.values()) entry.sub.close();
    this.bySocket.delete(socketId);
  }

  /** Subscriptions held now (all phases). */
  get size(): number {
    let n = 0;
    for (const subs of this.bySocket.values()) n += subs.size;
    return n;
  }

  /** A live event for a task room this pod holds (from the adapter hook); encoded once for all its sockets. */
  onLiveEvent(taskId: string, room: string, event: OutboundEvent): void {
    const sids = this.opts.nsp.adapter.rooms.get(room);
    if (!sids) return;
    for (const sid of sids) {
      const entry = this.bySocket.get(sid)?.get(taskId);
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
    for (const subs of this.bySocket.values())
      for (const entry of subs.values()) byRoom.set(entry.room, [...(byRoom.get(entry.room) ?? []), entry]);
    for (const [room, entries] of byRoom) {
      this.opts.supervisor.run(
        "resync",
        async () => {
          await this.opts.confirmRoom(room);
          for (const entry of entries) if (entry.sub.resync()) this.replay(entry);
        },
        { room },
        // Not re-confirmed: these sockets may miss live events; their clients resume after a reconnect.
        () => {
          for (const entry of entries) this.disconnect(entry.socket);
        },
      );
    }
    if (byRoom.size > 0) this.opts.logger.info({ rooms: byRoom.size }, "subscriber reconnected: resyncing subscriptions from history");
  }

  // ---- used by SubscriptionLease ----

  /** Adds a subscription in `joining`, in the place the lease reserved: the socket joins the room now. */
  add(socket: Socket, taskId: string, room: string, sinceSeq: number, sinceId?: string): Entry {
    this.release(socket.id);
    const sub = new Subscription<OutboundEvent>(
      taskId,
      sinceSeq,
      { maxPending: this.opts.maxPendingPerSubscription ?? 10_000, keep: (e) => e.detached() },
      sinceId,
    );
    const entry: Entry = { socket, room, sub };
    const subs = this.bySocket.get(socket.id) ?? new Map<string, Entry>();
    this.bySocket.set(socket.id, subs);
    subs.set(taskId, entry);
    socket.join(room);
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

  /** Reserves a place under the socket's subscription cap, or refuses with limit_exceeded (nothing changes). */
  reserve(socketId: string): void {
    const max = this.opts.maxSubscriptionsPerSocket;
    if ((this.bySocket.get(socketId)?.size ?? 0) + (this.reserved.get(socketId) ?? 0) >= max) {
      throw new CommandError("limit_exceeded", `A socket may follow at most ${max} tasks; unsubscribe from one first`);
    }
    this.reserved.set(socketId, (this.reserved.get(socketId) ?? 0) + 1);
  }

  release(socketId: string): void {
    const n = (this.reserved.get(socketId) ?? 1) - 1;
    if (n > 0) this.reserved.set(socketId, n);
    else this.reserved.delete(socketId);
  }

  /** Closes a subscription and leaves its room. */
  remove(entry: Entry): void {
    entry.sub.close();
    const subs = this.bySocket.get(entry.socket.id);
    if (subs?.get(entry.sub.taskId) !== entry) return;
    subs.delete(entry.sub.taskId);
    if (subs.size === 0) this.bySocket.delete(entry.socket.id);
    entry.socket.leave(entry.room);
  }

  // ---- internals ----

  /** Starts the replay loop of a subscription that is replaying, under the supervisor. */
  private replay(entry: Entry): void {
    const { socket, sub } = entry;
    this.opts.supervisor.run(
      "replay",
      () => this.replayLoop(entry),
      { taskId: sub.taskId, socketId: socket.id },
      () => this.disconnect(socket),
    );
  }

  private async replayLoop(entry: Entry): Promise<void> {
    const { sub, socket } = entry;
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
        this.opts.logger.warn({ err, taskId: sub.taskId, socketId: socket.id, failures }, "history read failed; retrying");
        await new Promise((r) => setTimeout(r, 50 * 2 ** failures));
        continue;
      }
      const step = sub.replayed(page.events, page.full, page.foldedThrough);
      if (step.reset) this.rewritten(entry, lastSeq);
      for (const hole of step.holes) {
        this.opts.onProblem?.("sequence_gap");
        const line = { taskId: sub.taskId, socketId: socket.id, after: hole.after, next: hole.next };
        if (hole.kind === "trimmed") this.opts.logger.warn(line, "history trimmed during replay");
        else this.opts.logger.warn(line, "events missing from history; skipping the hole");
      }
      for (const { event, replayed } of step.deliver) if (!this.write(entry, event, replayed)) return;
    }
  }

  /**
   * Writes one event to one socket. A socket that is no longer connected, or whose connection is
   * closing, gets nothing (Engine.IO would drop the write silently and it would count as delivered):
   * its subscriptions end, and the client resumes from its last seq when it reconnects. A socket past
   * the outbound bound is closed as a slow consumer. A write that throws is `emit_error`: the
   * connection is closed at once, discarding what is queued on it.
   */
  private write(entry: Entry, event: OutboundEvent, replayed: boolean): boolean {
    const { socket } = entry;
    if (!isWritable(socket)) {
      this.dropSocket(socket.id);
      return false;
    }
    if (this.opts.slowConsumers.isBackedUp(socket)) {
      this.dropSocket(socket.id);
      this.opts.slowConsumers.close(socket);
      return false;
    }
    try {
      event.writeTo(socket);
    } catch (err) {
      this.opts.onProblem?.("emit_error");
      this.opts.logger.error(
        { err, taskId: entry.sub.taskId, socketId: socket.id, seq: event.seq },
        "emit failed; closing the connection so the client resumes",
      );
      this.dropSocket(socket.id);
      closeNow(socket);
      return false;
    }
    this.opts.onDelivered?.(event, replayed);
    return true;
  }

  /**
   * History no longer holds the event this socket was given at `lastSeq` (a failover lost it, and
   * maybe another event took its seq): the socket is told to discard the task's events, before the
   * replay from the oldest retained event that follows on the same connection.
   */
  private rewritten(entry: Entry, lastSeq: number): void {
    const { socket, sub } = entry;
    this.opts.onProblem?.("history_rewritten");
    this.opts.logger.warn({ taskId: sub.taskId, socketId: socket.id, lastSeq }, "history was rewritten under this socket; task_reset");
    if (isWritable(socket)) socket.emit("task_reset", { taskId: sub.taskId, reason: "history_rewritten" });
  }

  private disconnect(socket: Socket): void {
    this.dropSocket(socket.id);
    if (socket.connected) socket.disconnect(true);
  }
}
