import type { EventEnvelope } from "@agentcast/protocol";
import { taskRoom } from "@agentcast/protocol";
import type { EventLog } from "@agentcast/store";
import type { Logger } from "pino";
import type { Namespace, Socket } from "socket.io";
import { readEnvelopeHead } from "../adapter/task-frame.js";
import { CommandError } from "../commands/command-error.js";
import { EncodedEvent, type OutboundEvent, RawEvent } from "./encoded-event.js";

const MAX_CONCURRENT_READS = 16;

/** One socket's subscription to one task. */
interface Subscription {
  readonly taskId: string;
  readonly room: string;
  /** Highest seq delivered to the socket (or skipped as truncated). */
  lastSeq: number;
  /** While true, live events are held in `pending` and history is being replayed. */
  catchingUp: boolean;
  pending: OutboundEvent[];
  /** Live events were dropped because `pending` was full; history must be read again. */
  overflowed: boolean;
  closed: boolean;
}

/** What the slow-consumer bound reads of an Engine.IO connection: its write buffer and ws's buffered bytes. */
interface EngineConnection {
  writeBuffer: { data?: unknown }[];
  transport: { socket?: { bufferedAmount?: number } };
}

export interface SubscriptionStart {
  lastSeq: number;
  truncated?: true;
  firstSeq?: number;
}

export interface TaskSubscriptionsOptions {
  nsp: Namespace;
  eventLog: EventLog;
  /** Resolves once this pod's Redis subscription to the room's channel is confirmed. */
  confirmRoom: (room: string) => Promise<void>;
  /** The task's lastSeq and the seq of its oldest retained event. */
  readPosition: (taskId: string) => Promise<{ lastSeq: number; firstSeq: number | undefined }>;
  logger: Logger;
  onDelivered?: (event: OutboundEvent, replayed: boolean) => void;
  /** Events were lost to this socket for good (history hole), or writing to it threw. */
  onProblem?: (kind: "sequence_gap" | "emit_error") => void;
  replayPageSize?: number;
  /** Tasks one socket may follow at once. */
  maxSubscriptionsPerSocket?: number;
  /** A socket with more unsent bytes than this is closed as a slow consumer (it resumes from history). */
  maxOutboundBytes?: number;
  onSlowConsumer?: () => void;
  maxPendingPerSubscription?: number;
  maxReplayRetries?: number;
}

/**
 * Delivers each task's events to its subscribed sockets exactly once and in seq order.
 *
 * Order of a subscribe: join the room and wait until the pod's SSUBSCRIBE is confirmed, *then*
 * read history — so every event is either in what we read or arrives live afterwards. Live events
 * that arrive while the socket catches up are held back and merged by seq; a gap in live events
 * (a lost pub/sub message) sends the socket back to history. Nothing is delivered twice because
 * each subscription remembers the last seq it delivered.
 */
export class TaskSubscriptions {
  private readonly bySocket = new Map<string, Map<string, Subscription>>();
  private readonly closedAsSlow = new WeakSet<Socket>();
  /** Bytes counted so far in each connection's current Engine.IO write buffer. */
  private readonly queuedBytes = new WeakMap<EngineConnection, { buffer: unknown[]; scanned: number; bytes: number }>();
  /** History reads in flight, bounded so a mass resync (reconnect storm) cannot load every page at once. */
  private readsInFlight = 0;
  private readonly readWaiters: (() => void)[] = [];
  private readonly pageSize: number;
  private readonly maxPending: number;
  private readonly maxRetries: number;

  constructor(private readonly opts: TaskSubscriptionsOptions) {
    this.pageSize = opts.replayPageSize ?? 100;
    this.maxPending = opts.maxPendingPerSubscription ?? 10_000;
    this.maxRetries = opts.maxReplayRetries ?? 5;
  }

  /**
   * Subscribes `socket` to `taskId` from `sinceSeq`. Resolves when live events are being captured,
   * with the position to put in the ack; call `replay()` after acking to send the history.
   * Subscribing again on the same socket never re-sends what it already delivered.
   */
  async subscribe(socket: Socket, taskId: string, sinceSeq: number): Promise<{ start: SubscriptionStart; replay: () => Promise<void> }> {
    const existing = this.bySocket.get(socket.id)?.get(taskId);
    if (existing) {
      const { lastSeq } = await this.opts.readPosition(taskId);
      return { start: { lastSeq }, replay: async () => {} };
    }
    if ((this.bySocket.get(socket.id)?.size ?? 0) >= (this.opts.maxSubscriptionsPerSocket ?? Number.POSITIVE_INFINITY)) {
      throw new CommandError(
        "limit_exceeded",
        `A socket may follow at most ${this.opts.maxSubscriptionsPerSocket} tasks; unsubscribe from one first`,
      );
    }
    const room = taskRoom(taskId);
    const sub: Subscription = {
      taskId,
      room,
      lastSeq: sinceSeq,
      catchingUp: true,
      pending: [],
      overflowed: false,
      closed: false,
    };
    const subs = this.bySocket.get(socket.id) ?? new Map<string, Subscription>();
    this.bySocket.set(socket.id, subs);
    subs.set(taskId, sub);
    socket.join(room);
    try {
      await this.opts.confirmRoom(room);
      const position = await this.opts.readPosition(taskId);
      const start: SubscriptionStart = { lastSeq: position.lastSeq };
      if (sinceSeq < position.lastSeq) {
        const firstSeq = position.firstSeq ?? position.lastSeq + 1;
        if (firstSeq > sinceSeq + 1) {
          start.truncated = true;
          start.firstSeq = firstSeq;
          sub.lastSeq = firstSeq - 1;
        }
      }
      return { start, replay: () => this.catchUp(socket, sub) };
    } catch (err) {
      this.remove(socket, taskId);
      throw err;
    }
  }

  unsubscribe(socket: Socket, taskId: string): void {
    this.remove(socket, taskId);
  }

  isSubscribed(socketId: string, taskId: string): boolean {
    return this.bySocket.get(socketId)?.has(taskId) ?? false;
  }

  /** Forget a disconnected socket (Socket.IO has already removed it from its rooms). */
  dropSocket(socketId: string): void {
    const subs = this.bySocket.get(socketId);
    if (!subs) return;
    for (const sub of subs.values()) sub.closed = true;
    this.bySocket.delete(socketId);
  }

  /** A live event for a task room this pod holds (called by the adapter hook); encoded once for all its sockets. */
  onLiveEvent(taskId: string, room: string, event: OutboundEvent): void {
    const sids = this.opts.nsp.adapter.rooms.get(room);
    if (!sids) return;
    for (const sid of sids) {
      const sub = this.bySocket.get(sid)?.get(taskId);
      const socket = this.opts.nsp.sockets.get(sid);
      if (!sub || !socket) continue;
      if (sub.catchingUp) {
        if (sub.pending.length < this.maxPending) sub.pending.push(event.detached());
        else sub.overflowed = true;
      } else if (event.seq === sub.lastSeq + 1) {
        this.deliver(socket, sub, event, false);
      } else if (event.seq > sub.lastSeq + 1) {
        // A live message was lost (e.g. a Redis reconnect): fill the gap from history.
        this.opts.logger.warn({ taskId, socketId: sid, lastSeq: sub.lastSeq, gotSeq: event.seq }, "live gap; replaying from history");
        sub.catchingUp = true;
        sub.pending = [event.detached()];
        void this.catchUp(socket, sub);
      }
      // else: a duplicate of something already delivered
    }
  }

  /**
   * Writes one event to one socket. A socket that is no longer connected, or whose connection is
   * closing, gets nothing (Engine.IO would drop the write silently and it would count as delivered):
   * its subscriptions end, and the client resumes from its last seq when it reconnects. A write that
   * throws is `emit_error`: the connection is closed at once, discarding what is queued on it.
   */
  private deliver(socket: Socket, sub: Subscription, event: OutboundEvent, replayed: boolean): void {
    if (!socket.connected || socket.conn.readyState !== "open") {
      this.dropSocket(socket.id);
      return;
    }
    if (this.isBackedUp(socket)) {
      this.closeSlowConsumer(socket);
      return;
    }
    try {
      event.writeTo(socket);
    } catch (err) {
      this.opts.onProblem?.("emit_error");
      this.opts.logger.error(
        { err, taskId: sub.taskId, socketId: socket.id, seq: event.seq },
        "emit failed; closing the connection so the client resumes",
      );
      this.dropSocket(socket.id);
      socket.conn.close(true); // discard: writing is what failed
      return;
    }
    sub.lastSeq = event.seq;
    this.opts.onDelivered?.(event, replayed);
  }

  /**
   * Unsent bytes beyond the bound: what ws holds plus the packets engine.io queues while the
   * transport is not writable (a client that stops reading leaves them there).
   */
  private isBackedUp(socket: Socket): boolean {
    const max = this.opts.maxOutboundBytes;
    if (max === undefined) return false;
    const conn = socket.conn as unknown as EngineConnection;
    const bytes = conn.transport.socket?.bufferedAmount ?? 0;
    if (bytes > max) return true;
    const queue = conn.writeBuffer;
    if (queue.length < 8) return false; // cheap common case
    // Engine.IO only pushes to its write buffer and replaces it on flush, so the bytes already counted
    // in this buffer stay counted: each delivery adds only what was queued since (a backed-up socket
    // in a fan-out would otherwise rescan its whole queue for every event).
    let q = this.queuedBytes.get(conn);
    if (!q || q.buffer !== queue || q.scanned > queue.length) {
      q = { buffer: queue, scanned: 0, bytes: 0 };
      this.queuedBytes.set(conn, q);
    }
    for (; q.scanned < queue.length; q.scanned++) {
      const data = queue[q.scanned]?.data;
      q.bytes += typeof data === "string" ? data.length : ((data as { byteLength?: number } | undefined)?.byteLength ?? 0);
    }
    return bytes + q.bytes > max;
  }

  /**
   * The pod's Redis subscriber connection was re-established: live messages published while it
   * was down are lost, and a run that ended meanwhile would never show the client a gap. Every
   * subscription re-reads history from its last delivered seq once its room is confirmed again.
   */
  resyncAll(): void {
    const byRoom = new Map<string, [Socket, Subscription][]>();
    for (const [sid, subs] of this.bySocket) {
      const socket = this.opts.nsp.sockets.get(sid);
      if (!socket) continue;
      for (const sub of subs.values()) {
        const list = byRoom.get(sub.room) ?? [];
        list.push([socket, sub]);
        byRoom.set(sub.room, list);
      }
    }
    for (const [room, entries] of byRoom) {
      void this.opts.confirmRoom(room).then(
        () => {
          for (const [socket, sub] of entries) {
            if (sub.closed || sub.catchingUp) continue;
            sub.catchingUp = true;
            sub.pending = [];
            void this.catchUp(socket, sub);
          }
        },
        (err: unknown) => this.opts.logger.warn({ err, room }, "room not re-confirmed after reconnect"),
      );
    }
    if (byRoom.size > 0) this.opts.logger.info({ rooms: byRoom.size }, "subscriber reconnected: resyncing subscriptions from history");
  }

  /** Stops buffering for a socket that does not read: tell it, close the transport; the client resumes from history. */
  private closeSlowConsumer(socket: Socket): void {
    if (!socket.connected || this.closedAsSlow.has(socket)) return;
    this.closedAsSlow.add(socket);
    this.opts.onSlowConsumer?.();
    this.opts.logger.warn({ socketId: socket.id }, "slow consumer: closing the connection so it resumes from history");
    socket.emit("error", { code: "slow_consumer", message: "The connection fell too far behind; reconnect and resume with sinceSeq" });
    this.dropSocket(socket.id);
    socket.conn.close();
  }

  /** Replays history after sub.lastSeq, merges held-back live events, then switches to live. */
  private async catchUp(socket: Socket, sub: Subscription): Promise<void> {
    let failures = 0;
    let emptyGapRounds = 0;
    while (!sub.closed) {
      let page: OutboundEvent[];
      try {
        page = await this.readPage(sub);
      } catch (err) {
        failures += 1;
        this.opts.logger.warn({ err, taskId: sub.taskId, socketId: socket.id, failures }, "history read failed");
        if (failures > this.maxRetries) {
          // Never stall silently: the client reconnects and resumes with sinceSeq.
          socket.disconnect(true);
          return;
        }
        await new Promise((r) => setTimeout(r, 50 * 2 ** failures));
        continue;
      }
      if (sub.closed || !socket.connected) return;
      for (const e of page) {
        if (sub.closed) return;
        if (e.seq <= sub.lastSeq) continue;
        if (e.seq > sub.lastSeq + 1) {
          this.opts.onProblem?.("sequence_gap");
          this.opts.logger.warn(
            { taskId: sub.taskId, socketId: socket.id, after: sub.lastSeq, next: e.seq },
            "history trimmed during replay",
          );
        }
        this.deliver(socket, sub, e, true);
      }
      if (page.length === this.pageSize) continue;
      // History is exhausted as of that read: merge the live events held back meanwhile.
      sub.pending.sort((a, b) => a.seq - b.seq);
      let gap = sub.overflowed;
      for (const e of sub.pending) {
        if (e.seq <= sub.lastSeq) continue;
        if (e.seq !== sub.lastSeq + 1) {
          gap = true;
          break;
        }
        this.deliver(socket, sub, e, false);
      }
      if (gap && page.length === 0 && !sub.overflowed && ++emptyGapRounds > 3) {
        // History lacks events that live delivery skipped (history deleted or expired): go on in order.
        this.opts.onProblem?.("sequence_gap");
        this.opts.logger.warn({ taskId: sub.taskId, after: sub.lastSeq }, "events missing from history; skipping the hole");
        for (const e of sub.pending) if (e.seq > sub.lastSeq) this.deliver(socket, sub, e, false);
        gap = false;
      }
      if (!gap) {
        sub.catchingUp = false;
        sub.pending = [];
        return;
      }
      sub.pending = sub.pending.filter((e) => e.seq > sub.lastSeq);
      sub.overflowed = false;
    }
  }

  private async readPage(sub: Subscription): Promise<OutboundEvent[]> {
    if (this.readsInFlight >= MAX_CONCURRENT_READS) await new Promise<void>((resolve) => this.readWaiters.push(resolve));
    this.readsInFlight++;
    try {
      const rows = await this.opts.eventLog.readRawAfter(sub.taskId, sub.lastSeq, this.pageSize);
      return rows.map((row) => this.replayable(row));
    } finally {
      this.readsInFlight--;
      this.readWaiters.shift()?.();
    }
  }

  /** A history entry as it is stored (no parse, no re-encode) when our publish script wrote it, else parsed. */
  private replayable(row: { seq: number; json: Buffer }): OutboundEvent {
    const head = readEnvelopeHead(row.json, 0, row.json.length);
    if (head && head.seq === row.seq) return new RawEvent(head.seq, head.type, head.ts, row.json);
    return new EncodedEvent(this.opts.nsp, JSON.parse(row.json.toString()) as EventEnvelope);
  }

  private remove(socket: Socket, taskId: string): void {
    const subs = this.bySocket.get(socket.id);
    const sub = subs?.get(taskId);
    if (!subs || !sub) return;
    sub.closed = true;
    subs.delete(taskId);
    if (subs.size === 0) this.bySocket.delete(socket.id);
    socket.leave(sub.room);
  }
}
