import type { EventEnvelope } from "@agentcast/protocol";
import type { Keys } from "./keys.js";
import type { RedisClient } from "./redis-connection.js";

/** A task's retained history: the Redis Stream `…:events`, entry id `<seq>-0`, field `e` = envelope JSON. */
export class EventLog {
  constructor(
    private readonly redis: RedisClient,
    private readonly keys: Keys,
  ) {}

  /** Up to `limit` events with seq > afterSeq, in seq order. */
  async readAfter(taskId: string, afterSeq: number, limit: number): Promise<EventEnvelope[]> {
    const rows = await this.redis.xrange(this.keys.events(taskId), `${afterSeq + 1}-0`, "+", "COUNT", limit);
    return rows.map(([, fields]) => JSON.parse(fields[1] as string) as EventEnvelope);
  }

  /**
   * Up to `limit` entries with seq > afterSeq, in seq order, as stored: the seq (from the entry id) and
   * the envelope's JSON bytes, unparsed — what a gateway replays to a socket.
   */
  async readRawAfter(taskId: string, afterSeq: number, limit: number): Promise<{ seq: number; json: Buffer }[]> {
    const rows = await this.redis.xrangeBuffer(this.keys.events(taskId), `${afterSeq + 1}-0`, "+", "COUNT", limit);
    return rows.map(([id, fields]) => ({ seq: Number.parseInt(id.toString("latin1"), 10), json: fields[1] as Buffer }));
  }

  /** seq of the oldest retained event, or undefined when nothing is retained. */
  async firstSeq(taskId: string): Promise<number | undefined> {
    const rows = await this.redis.xrange(this.keys.events(taskId), "-", "+", "COUNT", 1);
    const id = rows[0]?.[0];
    return id === undefined ? undefined : Number(id.split("-")[0]);
  }

  /** The task's lastSeq (0 if unknown) and the seq of its oldest retained event, in one round trip. */
  async position(taskId: string): Promise<{ lastSeq: number; firstSeq: number | undefined }> {
    const res = await this.redis
      .pipeline()
      .hget(this.keys.task(taskId), "lastSeq")
      .xrange(this.keys.events(taskId), "-", "+", "COUNT", 1)
      .exec();
    const [[e1, lastSeq], [e2, rows]] = res as [[Error | null, string | null], [Error | null, [string, string[]][]]];
    if (e1 || e2) throw e1 ?? e2;
    const id = rows[0]?.[0];
    return { lastSeq: Number(lastSeq ?? 0), firstSeq: id === undefined ? undefined : Number(id.split("-")[0]) };
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
