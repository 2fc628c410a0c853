import { Counter, collectDefaultMetrics, Gauge, Registry } from "prom-client";

/** Gateway metrics on an explicit registry (the observability issue extends this set). */
export function createGatewayMetrics(gatewayId: string) {
  const registry = new Registry();
  registry.setDefaultLabels({ gateway_id: gatewayId });
  collectDefaultMetrics({ register: registry });
  return {
    registry,
    connections: new Gauge({ name: "agentcast_gateway_connections", help: "Open Socket.IO connections", registers: [registry] }),
    connectionsOpened: new Counter({
      name: "agentcast_gateway_connections_opened_total",
      help: "Socket.IO connections accepted",
      registers: [registry],
    }),
    authFailures: new Counter({
      name: "agentcast_gateway_auth_failures_total",
      help: "Handshakes refused, by error code",
      labelNames: ["code"] as const,
      registers: [registry],
    }),
    commands: new Counter({
      name: "agentcast_gateway_commands_total",
      help: "Client commands, by command and outcome (ok or an error code)",
      labelNames: ["command", "outcome"] as const,
      registers: [registry],
    }),
    eventsDelivered: new Counter({
      name: "agentcast_gateway_events_delivered_total",
      help: "Agent events written to sockets, by type",
      labelNames: ["type"] as const,
      registers: [registry],
    }),
    eventsReplayed: new Counter({
      name: "agentcast_gateway_events_replayed_total",
      help: "Agent events written to sockets from history",
      registers: [registry],
    }),
  };
}

export type GatewayMetrics = ReturnType<typeof createGatewayMetrics>;
