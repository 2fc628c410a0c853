import type { AgentcastTarget } from "../children/publisher.js";
import type { Protocol } from "../common/bench-conn.js";
import type { PaceResult } from "../common/pacer.js";

export type SystemName = "ws" | "socketio" | "agentcast" | "agentcast-cluster";
export const SYSTEM_LABELS: Record<SystemName, string> = {
  ws: "raw ws (in-process publisher)",
  socketio: "Socket.IO + classic redis adapter + emitter",
  agentcast: "agentcast (gateways + EventPublisher, history on)",
  "agentcast-cluster": "agentcast on a Redis Cluster (3 masters + 3 replicas)",
};

/** The Redis the bench started: one node always; with `--redis cluster` also a local Redis Cluster. */
export interface BenchRedis {
  /** The single node (`redis://127.0.0.1:<port>`). */
  url: string;
  cluster?: {
    /** `host:port,…` of every node, for REDIS_CLUSTER_NODES. */
    seeds: string;
    /** `host:port` of each master (where the publish load goes). */
    masters: string[];
  };
}

/** What clients connect to and publishers send to: a room (ws, Socket.IO) or an owned task (agentcast). */
export interface Target {
  /** Room name, or task id. */
  name: string;
  publish: string | AgentcastTarget;
  token?: string;
}

export interface PublishArgs {
  rate: number;
  durationMs: number;
  targets: Target[];
  random?: boolean;
}

/** One system under test, running as its own processes. */
export interface System {
  readonly name: SystemName;
  readonly protocol: Protocol;
  /** Server base URLs; clients are spread over them round-robin. */
  readonly urls: string[];
  readonly serverPids: number[];
  /** Targets for `count` clients (or groups of watchers); agentcast creates real tasks unless `tasks` is false. */
  targets(count: number, tag: string, opts?: { tasks?: boolean; user?: string }): Promise<Target[]>;
  publish(args: PublishArgs): Promise<PaceResult>;
  /** V8 heap in use of server `i`. */
  heapUsed(i: number): Promise<number>;
  /** Redis client names of each server's subscriber connection (for the isolation scenario). */
  subscriberNames(): string[];
  /** `host:port` of the Redis node(s) that take this system's publish load (agentcast: its node, or the cluster's masters). */
  readonly redisNodes: string[];
  /** SIGKILL server `i`. */
  kill(i: number): Promise<void>;
  stop(): Promise<void>;
}

export interface SystemOptions {
  /** The one Redis node the system uses (stock Socket.IO; agentcast without `cluster`). */
  redisUrl: string;
  /** agentcast only: run on this Redis Cluster instead. */
  cluster?: NonNullable<BenchRedis["cluster"]>;
  servers: number;
}
