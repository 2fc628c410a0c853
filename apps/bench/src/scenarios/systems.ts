import { startAgentcastSystem } from "../systems/agentcast-system.js";
import { startSocketIoSystem } from "../systems/socketio-system.js";
import type { BenchRedis, System, SystemName } from "../systems/system.js";
import { startWsSystem } from "../systems/ws-system.js";

export const ALL_SYSTEMS: SystemName[] = ["ws", "socketio", "agentcast"];

/** `servers` processes of a system (ws is always one process with its own publisher). */
export function startSystem(name: SystemName, redis: BenchRedis, servers: number, opts: { adapter?: boolean } = {}): Promise<System> {
  if (name === "ws") return startWsSystem();
  if (name === "socketio") return startSocketIoSystem({ redisUrl: redis.url, servers, ...opts });
  if (name === "agentcast-cluster") {
    if (!redis.cluster) throw new Error("agentcast-cluster needs --redis cluster");
    return startAgentcastSystem({ redisUrl: redis.url, cluster: redis.cluster, servers });
  }
  return startAgentcastSystem({ redisUrl: redis.url, servers });
}
