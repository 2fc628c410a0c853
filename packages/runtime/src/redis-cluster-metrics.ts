import { Counter, Gauge, type Registry } from "prom-client";
import type { Component } from "./silent-failures.js";

/** Cluster replies that made the client resend a command elsewhere (moved, ask) or later (tryagain, clusterdown). */
export const REDIS_REDIRECTION_KINDS = ["moved", "ask", "tryagain", "clusterdown"] as const;
export type RedisRedirectionKind = (typeof REDIS_REDIRECTION_KINDS)[number];

/** Masters serving slots, by whether this process reached them at its latest probe. */
export interface RedisClusterNodeCounts {
  reachable: number;
  unreachable: number;
}

/** What a cluster watch reports; each call counts one observed event. */
export interface RedisClusterMetrics {
  topologyChanged(): void;
  redirected(kind: RedisRedirectionKind): void;
  nodeError(node: string): void;
}

/**
 * The Redis Cluster families of one process (gateway or worker), on its registry. They exist (at 0) on a
 * single Redis too, so dashboards and alerts need no mode switch. `node` is a `host:port` of the cluster:
 * bounded by the cluster's size. `nodes` is read at scrape time (undefined: not a cluster, 0 and 0).
 */
export function createRedisClusterMetrics(
  registry: Registry,
  component: Component,
  nodes: () => RedisClusterNodeCounts | undefined,
): RedisClusterMetrics {
  const registers = [registry];
  const topology = new Counter({
    name: "agentcast_redis_cluster_topology_changes_total",
    help: "Redis Cluster slot-map changes this process saw (a slot moved to another master, a failover, a master's replicas changed)",
    labelNames: ["component"] as const,
    registers,
  });
  const redirections = new Counter({
    name: "agentcast_redis_cluster_redirections_total",
    help: "Redis Cluster replies that made this process resend a command elsewhere (moved, ask) or later (tryagain, clusterdown), by kind",
    labelNames: ["component", "kind"] as const,
    registers,
  });
  const nodeErrors = new Counter({
    name: "agentcast_redis_cluster_node_errors_total",
    help: "Errors on this process's connections to one Redis Cluster node (connection errors, failed slot-map reads, probes left unanswered), by node host:port",
    labelNames: ["component", "node"] as const,
    registers,
  });
  new Gauge({
    name: "agentcast_redis_cluster_nodes",
    help: "Redis Cluster masters serving slots, by whether this process reached them at its latest probe (state: reachable, unreachable)",
    labelNames: ["component", "state"] as const,
    registers,
    collect() {
      const counts = nodes() ?? { reachable: 0, unreachable: 0 };
      this.set({ component, state: "reachable" }, counts.reachable);
      this.set({ component, state: "unreachable" }, counts.unreachable);
    },
  });
  topology.inc({ component }, 0);
  for (const kind of REDIS_REDIRECTION_KINDS) redirections.inc({ component, kind }, 0);
  return {
    topologyChanged: () => topology.inc({ component }),
    redirected: (kind) => redirections.inc({ component, kind }),
    nodeError: (node) => nodeErrors.inc({ component, node }),
  };
}
