import type { AgentcastTarget } from "../children/publisher.js";
import type { Protocol } from "../common/bench-conn.js";
import type { PaceResult } from "../common/pacer.js";

export type SystemName = "ws" | "socketio" | "agentcast";
export const SYSTEM_LABELS: Record<SystemName, string> = {
  ws: "raw ws (in-process publisher)",
  socketio: "Socket.IO + classic redis adapter + emitter",
  agentcast: "agentcast (gateways + EventPublisher, history on)",
};

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
  /** Redis client addresses of each server's subscriber connection (for the isolation scenario). */
  subscriberNames(): string[];
  /** SIGKILL server `i`. */
  kill(i: number): Promise<void>;
  stop(): Promise<void>;
}

export interface SystemOptions {
  redisUrl: string;
  servers: number;
}
