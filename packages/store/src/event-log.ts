import type { EventEnvelope } from "@agentcast/protocol";
import type { Keys } from "./keys.js";
import type { RedisClient } from "./redis-connection.js";

/** A page of history as stored (see `EventLog.readRawAfter`). */
export interface RawHistoryPage {
  rows: { seq: number; json: Buffer }[];
  /** The stream had as many entries as were asked for: read again after the last row. */
  full: boolean;
  /** Missing seqs up to this one were streamed deltas folded into snapshots (their text is in one). */
  foldedThrough: number;
}

/**
 * A task's retained history: the Redis Stream `…:events`, entry id `<seq>-0`, field `e` = envelope JSON,
 * and the snapshots of streamed deltas folded by compaction (`…:snapshots`).
 */
export class EventLog {
  constructor(
    private readonly redis: RedisClient,
    private readonly keys: Keys,
  ) {}

  /**
   * Up to `limit` events with seq > afterSeq, in seq order, snapshots of folded deltas merged in by seq
   * (see readRawAfter). A page may hold a few more than `limit` events: the snapshots within its range.
   */
  async readAfter(taskId: string, afterSeq: number, limit: number): Promise<EventEnvelope[]> {
    const page = await this.readRawAfter(taskId, afterSeq, limit);
    return page.rows.map((r) => JSON.parse(r.json.toString()) as EventEnvelope);
  }

  /**
   * Up to `limit` entries with seq > afterSeq, in seq order, as stored: the seq (from the entry id) and
   * the envelope's JSON bytes, unparsed — what a gateway replays to a socket. Streamed deltas folded by
   * compaction (compact-history-3.lua) come back as their runs' snapshots (`data.snapshot: true`, the run's
   * whole text up to that seq), each at the seq of the last delta it folds, merged in by seq: those within
   * this page's range, or all that follow when this is the last page. `full`: the stream had `limit`
   * entries here (read again after the last one). `foldedThrough`: seqs up to it that are missing were
   * folded into snapshots (not lost).
   */
  async readRawAfter(taskId: string, afterSeq: number, limit: number): Promise<RawHistoryPage> {
    const res = await this.redis
      .pipeline()
      .xrangeBuffer(this.keys.events(taskId), `${afterSeq + 1}-0`, "+", "COUNT", limit)
      .hkeys(this.keys.snapshots(taskId))
      .hget(this.keys.task(taskId), "foldedThrough")
      .exec();
    const [[e1, raw], [e2, fields], [e3, folded]] = res as [
      [Error | null, [Buffer, Buffer[]][]],
      [Error | null, string[]],
      [Error | null, string | null],
    ];
    if (e1 || e2 || e3) throw e1 ?? e2 ?? e3;
    const rows = raw.map(([id, f]) => ({ seq: Number.parseInt(id.toString("latin1"), 10), json: f[1] as Buffer }));
    const full = rows.length === limit;
    const foldedThrough = Number(folded ?? 0);
    const seqFields = fields.filter((f) => f.startsWith("s|"));
    if (seqFields.length === 0) return { rows, full, foldedThrough };
    const upTo = full ? (rows.at(-1)?.seq ?? Number.POSITIVE_INFINITY) : Number.POSITIVE_INFINITY;
    const seqs = (await this.redis.hmget(this.keys.snapshots(taskId), ...seqFields)).map(Number);
    const wanted = seqFields.filter((_, i) => (seqs[i] as number) > afterSeq && (seqs[i] as number) <= upTo).map((f) => `e|${f.slice(2)}`);
    if (wanted.length === 0) return { rows, full, foldedThrough };
    const snaps = (await this.redis.hmgetBuffer(this.keys.snapshots(taskId), ...wanted)).flatMap((json) => {
      const seq = json ? Number(/^\{"v":\d+,"seq":(\d+),/.exec(json.toString("latin1", 0, 40))?.[1]) : Number.NaN;
      return json && Number.isFinite(seq) ? [{ seq, json }] : [];
    });
    return { rows: [...rows, ...snaps].sort((a, b) => a.seq - b.seq), full, foldedThrough };
  }

  /**
   * The task's lastSeq (0 if unknown) and the seq from which its history is whole, in one round trip: the
   * oldest retained event's, or — once compaction ran — the seq after the last one dropped for good
   * (folded deltas are not lost: their text is in snapshots). Undefined when nothing is retained.
   */
  async position(taskId: string): Promise<{ lastSeq: number; firstSeq: number | undefined; foldedThrough: number }> {
    const res = await this.redis
      .pipeline()
      .hmget(this.keys.task(taskId), "lastSeq", "foldedThrough", "trimmedThrough")
      .xrange(this.keys.events(taskId), "-", "+", "COUNT", 1)
      .exec();
    const [[e1, fields], [e2, rows]] = res as [[Error | null, (string | null)[]], [Error | null, [string, string[]][]]];
    if (e1 || e2) throw e1 ?? e2;
    const [lastSeq, folded, trimmed] = fields.map((f) => Number(f ?? 0)) as [number, number, number];
    const id = rows[0]?.[0];
    const oldest = id === undefined ? undefined : Number(id.split("-")[0]);
    if (folded > 0 || trimmed > 0)
      return { lastSeq, firstSeq: oldest === undefined ? undefined : Math.min(oldest, trimmed + 1), foldedThrough: folded };
    return { lastSeq, firstSeq: oldest, foldedThrough: 0 };
  }

  /**
   * The retained events of one run, in order: read backwards from the newest until its
   * agent_started (runs of a task never interleave). Empty when the run has no retained events.
   */
  async readRun(taskId: string, runId: string, pageSize = 500): Promise<EventEnvelope[]> {
    const found: EventEnvelope[] = [];
    let end = "+";
    for (;;) {
      const rows = await this.redis.xrevrange(this.keys.events(taskId), end, "-", "COUNT", pageSize);
      for (const [id, fields] of rows) {
        const e = JSON.parse(fields[1] as string) as EventEnvelope;
        if (e.runId === runId) found.push(e);
        else if (found.length > 0) return found.reverse();
        if (e.runId === runId && e.type === "agent_started") return found.reverse();
        end = `(${id}`;
      }
      if (rows.length < pageSize) return found.reverse();
    }
  }
}
