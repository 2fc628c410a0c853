import type { AgentcastClient } from "@agentcast/client";
import { createContext, type ReactNode, useContext } from "react";

const ClientContext = createContext<AgentcastClient | null>(null);

/** Makes one AgentcastClient available to the hooks below it. */
export function AgentcastProvider({ client, children }: { client: AgentcastClient; children: ReactNode }) {
  return <ClientContext.Provider value={client}>{children}</ClientContext.Provider>;
}

export function useAgentcastClient(): AgentcastClient {
  const client = useContext(ClientContext);
  if (!client) throw new Error("useAgentcastClient: wrap your tree in <AgentcastProvider client={…}>");
  return client;
}
