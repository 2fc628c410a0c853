import type { RedisClient } from "./redis-connection.js";

/** One master's WAITs: the one on the wire, and the one that will follow it. */
interface Lane {
  inFlight: Promise<number> | undefined;
  next: Promise<number> | undefined;
}

/**
 * `WAIT` with group commit. A WAIT blocks the connection it runs on until the replicas acknowledged
 * every write sent on it before, so one WAIT per event would serialise every publish to a master.
 * Instead each master has at most one WAIT on the wire: a caller whose write was answered joins the
 * WAIT that will be sent next (sent after its write, so it covers it) — many events, one WAIT.
 */
export class ReplicaWaits {
  private readonly lanes = new Map<string, Lane>();

  constructor(
    private readonly redis: RedisClient,
    private readonly timeoutMs: number,
  ) {}

  /**
   * Resolves with how many replicas acknowledged every write this connection had sent to `master` when
   * it was called (the caller's write must have been answered already). `routeKey`, any key on that
   * master, routes the WAIT to it on a cluster.
   */
  acknowledged(master: string, routeKey: string, replicas: number): Promise<number> {
    let lane = this.lanes.get(master);
    if (!lane) {
      lane = { inFlight: undefined, next: undefined };
      this.lanes.set(master, lane);
    }
    if (lane.next) return lane.next;
    if (!lane.inFlight) return this.send(lane, routeKey, replicas);
    const current = lane.inFlight;
    const next = current.then(
      () => undefined,
      () => undefined,
    );
    lane.next = next.then(() => {
      lane.next = undefined;
      return this.send(lane, routeKey, replicas);
    });
    return lane.next;
  }

  private send(lane: Lane, routeKey: string, replicas: number): Promise<number> {
    const sent = (async () => {
      const replies = (await this.redis.pipeline().exists(routeKey).wait(replicas, this.timeoutMs).exec()) ?? [];
      for (const [err] of replies) if (err) throw err;
      const acked = replies[1]?.[1];
      if (typeof acked !== "number") throw new Error("WAIT returned no reply");
      return acked;
    })();
    lane.inFlight = sent;
    const clear = () => {
      if (lane.inFlight === sent) lane.inFlight = undefined;
    };
    sent.then(clear, clear);
    return sent;
  }
}
