import { Cluster } from "ioredis";

/**
 * A cluster reply that made the client send a command again: elsewhere (`moved`: the slot has a new owner;
 * `ask`: the slot is being migrated and this key is on the importing node) or later (`tryagain`: a
 * multi-key command during a migration, some keys moved and some not; `clusterdown`: the cluster could not
 * serve the slot).
 */
export type ClusterRedirection = "moved" | "ask" | "tryagain" | "clusterdown";

const KINDS = new Map<string, ClusterRedirection>([
  ["MOVED", "moved"],
  ["ASK", "ask"],
  ["TRYAGAIN", "tryagain"],
  ["CLUSTERDOWN", "clusterdown"],
]);

/**
 * ioredis' Cluster, emitting `redirection` (kind) for every MOVED, ASK, TRYAGAIN or CLUSTERDOWN reply it
 * handles. ioredis emits no event for these: every such reply of a command or a pipeline goes through
 * `Cluster.handleError` (ioredis 5: cluster/index.js, Pipeline.js), a public but undocumented method —
 * the one place this package touches ioredis internals (pinned by test/observed-cluster.test.ts).
 */
export class ObservedCluster extends Cluster {
  override handleError(error: Error, ttl: { value?: unknown }, handlers: unknown): void {
    const kind = KINDS.get(error.message.split(" ", 1)[0] ?? "");
    if (kind) this.emit("redirection", kind);
    super.handleError(error, ttl, handlers);
  }
}
