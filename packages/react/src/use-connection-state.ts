import type { ConnectionState } from "@agentcast/client";
import { useSyncExternalStore } from "react";
import { useAgentcastClient } from "./provider.js";

/** The client's connection state: connecting | connected | reconnecting | disconnected. */
export function useConnectionState(): ConnectionState {
  const client = useAgentcastClient();
  return useSyncExternalStore(
    (onChange) => client.on("state", onChange),
    () => client.state,
    () => client.state,
  );
}
