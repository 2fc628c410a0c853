import type { EventEnvelope } from "@agentcast/protocol";
import { type EventLog, readEnvelopeHead } from "@agentcast/store";
import type { Namespace } from "socket.io";
import { EncodedEvent, type OutboundEvent, RawEvent } from "./outbound-event.js";

export interface HistoryPagesOptions {
  eventLog: EventLog;
  nsp: Namespace;
  pageSize: number;
  /** History reads in flight at once on this gateway, so a mass resync (reconnect storm) cannot load every page at once. */
  maxConcurrentReads: number;
}

export interface HistoryPage {
  events: OutboundEvent[];
  full: boolean;
  foldedThrough: number;
  /** The events' stored bytes: about what writing them queues for a viewer. */
  bytes: number;
}

/** Reads pages of a task's history for replay, as events ready to write: stored bytes as they are when our script wrote them. */
export class HistoryPages {
  private inFlight = 0;
  private readonly waiters: (() => void)[] = [];

  constructor(private readonly opts: HistoryPagesOptions) {}

  get pageSize(): number {
    return this.opts.pageSize;
  }

  /**
   * Up to `pageSize` events with seq > afterSeq, in seq order (plus the snapshots of folded deltas in that
   * range); `full`: read again after the last one; `foldedThrough`: missing seqs up to it were folded.
   */
  async after(taskId: string, afterSeq: number): Promise<HistoryPage> {
    if (this.inFlight >= this.opts.maxConcurrentReads) await new Promise<void>((resolve) => this.waiters.push(resolve));
    this.inFlight++;
    try {
      const page = await this.opts.eventLog.readRawAfter(taskId, afterSeq, this.opts.pageSize);
      let bytes = 0;
      for (const row of page.rows) bytes += row.json.length;
      return { events: page.rows.map((row) => this.replayable(row)), full: page.full, foldedThrough: page.foldedThrough, bytes };
    } finally {
      this.inFlight--;
      this.waiters.shift()?.();
    }
  }

  /** A history entry as it is stored (no parse, no re-encode) when our publish script wrote it, else parsed. */
  private replayable(row: { seq: number; json: Buffer }): OutboundEvent {
    const head = readEnvelopeHead(row.json, 0, row.json.length);
    if (head && head.seq === row.seq) return new RawEvent(head.seq, head.type, head.ts, row.json, head.id);
    return new EncodedEvent(this.opts.nsp, JSON.parse(row.json.toString()) as EventEnvelope);
  }
}
