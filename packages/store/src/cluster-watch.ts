import type { Cluster } from "ioredis";
import type { ClusterRedirection } from "./observed-cluster.js";
import { isCluster, type RedisClient } from "./redis-connection.js";

/** What the watch reports (the apps count it in their metrics). */
export interface ClusterObserver {
  /** The slot map changed: a slot has a new master, or a master's replicas changed. */
  topologyChanged(): void;
  redirected(kind: ClusterRedirection): void;
  /** An error on a connection to `node` (`host:port`), a failed slot-map read from it, or a probe it left unanswered. */
  nodeError(node: string): void;
}

export interface ClusterHealth {
  /**
   * The cluster can serve every slot to this process: the command connection is ready, every master that
   * serves slots answered the latest probe within the timeout, and none says `cluster_state` is not ok.
   */
  ok: boolean;
  /** Why not (for /readyz and logs). */
  problem?: string;
  /** Masters serving slots that answered within the timeout (or are not probed yet), and those that did not. */
  reachable: number;
  unreachable: number;
}

export interface ClusterWatch {
  health(): ClusterHealth;
  stop(): void;
}

export interface ClusterWatchOptions {
  /** How often every master serving slots is asked CLUSTER INFO on the command connection. */
  probeIntervalMs: number;
  /** A master that has not answered a probe for this long is unreachable. */
  probeTimeoutMs: number;
  observer: ClusterObserver;
  logger: { warn(obj: object, msg: string): void; info(obj: object, msg: string): void };
}

interface Probe {
  sentAt: number;
  /** Undefined while unanswered. */
  answer?: { stateOk: boolean } | { error: string };
  timedOut: boolean;
}

/**
 * Watches a process's cluster connections (`clients`, the first one its command connection; clients that
 * are not clusters are ignored): slot-map changes seen by the first, MOVED/ASK/TRYAGAIN/CLUSTERDOWN replies
 * and node errors seen by any, and — on the first — a probe of every master that serves slots, which tells
 * whether this process can reach each of them now (a paused or blackholed node keeps its TCP connection
 * open and raises no error: only an unanswered command shows it). On a cluster this replaces the
 * whole-connection PING watch (`watchRedisLiveness`): a PING goes to one random master, and reconnecting
 * every node because one is silent drops the sharded subscriptions on the healthy ones (ioredis then waits
 * for the silent node before it subscribes anywhere again). Only when no master answers are the
 * connections torn down and reconnected. Returns undefined when the first client is not a cluster.
 */
export function watchRedisCluster(
  clients: readonly (readonly [name: string, client: RedisClient])[],
  opts: ClusterWatchOptions,
): ClusterWatch | undefined {
  const clusters = clients.flatMap(([name, c]) => (isCluster(c) ? [[name, c] as const] : []));
  const main = clients[0]?.[1];
  if (!main || !isCluster(main)) return undefined;
  const { observer, logger } = opts;
  const probes = new Map<string, Probe>();
  let layout: string | undefined;
  const masterKeys = () => main.nodes("master").map((n) => `${n.options.host}:${n.options.port}`);
  /** Every master went silent and the connections were torn down; cleared when one answers again. */
  let reconnected = false;
  // No master answers: like a blackholed single node, tear every connection down and reconnect (one
  // silent master is the cluster's to fail over; reconnecting then would only drop the healthy ones).
  const reconnectIfAllSilent = () => {
    const keys = masterKeys();
    const silent = keys.length > 0 && keys.every((k) => probes.get(k)?.timedOut === true && probes.get(k)?.answer === undefined);
    if (!silent || reconnected) return;
    reconnected = true;
    logger.warn({ masters: keys }, "no redis cluster master answers; reconnecting");
    for (const [, cluster] of clusters) cluster.disconnect(true);
  };

  const probeAll = () => {
    if (main.status !== "ready") return;
    const current = new Set(masterKeys());
    for (const key of probes.keys()) if (!current.has(key)) probes.delete(key);
    for (const node of main.nodes("master")) {
      const key = `${node.options.host}:${node.options.port}`;
      const previous = probes.get(key);
      if (previous && previous.answer === undefined) continue; // still waiting for the previous one
      const probe: Probe = { sentAt: Date.now(), timedOut: false };
      probes.set(key, probe);
      const timer = setTimeout(() => {
        if (probe.answer !== undefined) return;
        probe.timedOut = true;
        observer.nodeError(key);
        logger.warn({ node: key, timeoutMs: opts.probeTimeoutMs }, "redis cluster node does not answer");
        reconnectIfAllSilent();
      }, opts.probeTimeoutMs);
      timer.unref();
      node.cluster("INFO").then(
        (info) => {
          clearTimeout(timer);
          if (probe.timedOut) logger.info({ node: key, afterMs: Date.now() - probe.sentAt }, "redis cluster node answers again");
          probe.answer = { stateOk: /cluster_state:ok/.test(String(info)) };
          reconnected = false;
        },
        (err: Error) => {
          // A connection error is also reported by ioredis ("node error"), counted there.
          clearTimeout(timer);
          probe.answer = { error: err.message };
        },
      );
    }
  };

  const onRefresh = () => {
    const next = slotLayout(main.slots);
    if (layout !== undefined && next !== layout) {
      observer.topologyChanged();
      logger.info({ masters: masterKeys() }, "redis cluster slot map changed");
      probeAll(); // a new master is probed at once, not an interval later
    }
    layout = next;
  };
  main.on("refresh", onRefresh);
  const listeners: [Cluster, string, Parameters<Cluster["off"]>[1]][] = [[main, "refresh", onRefresh]];
  for (const [, cluster] of clusters) {
    const onRedirection = (kind: ClusterRedirection) => observer.redirected(kind);
    const onNodeError = (_err: Error, node: string) => observer.nodeError(String(node));
    cluster.on("redirection", onRedirection);
    cluster.on("node error", onNodeError); // node connections and slot-map reads
    cluster.on("nodeError", onNodeError); // sharded subscribers' connections
    listeners.push([cluster, "redirection", onRedirection], [cluster, "node error", onNodeError], [cluster, "nodeError", onNodeError]);
  }
  const interval = setInterval(probeAll, opts.probeIntervalMs);
  interval.unref();

  return {
    health() {
      const now = Date.now();
      let reachable = 0;
      const unreachable: string[] = [];
      const notOk: string[] = [];
      for (const key of masterKeys()) {
        const p = probes.get(key);
        const answer = p?.answer;
        if (!p || (answer === undefined && now - p.sentAt <= opts.probeTimeoutMs)) reachable++;
        else if (answer === undefined || "error" in answer) unreachable.push(key);
        else {
          reachable++;
          if (!answer.stateOk) notOk.push(key);
        }
      }
      const problem =
        main.status !== "ready"
          ? `cluster connection ${main.status}`
          : reachable + unreachable.length === 0
            ? "no master known"
            : unreachable.length > 0
              ? `unreachable: ${unreachable.join(",")}`
              : notOk.length > 0
                ? `cluster_state not ok at ${notOk.join(",")}`
                : undefined;
      return { ok: problem === undefined, ...(problem ? { problem } : {}), reachable, unreachable: unreachable.length };
    },
    stop() {
      clearInterval(interval);
      for (const [cluster, event, listener] of listeners) cluster.off(event, listener);
    },
  };
}

/** The slot map as ranges of equal owners (master, then its replicas sorted), compact enough to compare every refresh. */
function slotLayout(slots: readonly (readonly string[] | undefined)[]): string {
  const ownersOf = (slot: number) => {
    const [master = "", ...replicas] = slots[slot] ?? [];
    return [master, ...replicas.sort()].join(";");
  };
  const parts: string[] = [];
  let from = 0;
  let owners = ownersOf(0);
  for (let slot = 1; slot <= 16_384; slot++) {
    const next = slot === 16_384 ? undefined : ownersOf(slot);
    if (next === owners) continue;
    parts.push(`${from}-${slot - 1}=${owners}`);
    from = slot;
    owners = next ?? "";
  }
  return parts.join(",");
}
