import { startAgentcastSystem } from "../systems/agentcast-system.js";
import { startSocketIoSystem } from "../systems/socketio-system.js";
import type { System, SystemName } from "../systems/system.js";
import { startWsSystem } from "../systems/ws-system.js";

export const ALL_SYSTEMS: SystemName[] = ["ws", "socketio", "agentcast"];

/** `servers` processes of a system (ws is always one process with its own publisher). */
export function startSystem(name: SystemName, redisUrl: string, servers: number, opts: { adapter?: boolean } = {}): Promise<System> {
  if (name === "ws") return startWsSystem();
  if (name === "socketio") return startSocketIoSystem({ redisUrl, servers, ...opts });
  return startAgentcastSystem({ redisUrl, servers });
}
