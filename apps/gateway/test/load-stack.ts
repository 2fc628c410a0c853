// Shared by the chaos tests that drive many SDK clients through a balancer.
import { type AgentcastClient, type ClientOptions, createClient } from "@agentcast/client";
import { type LocalStack, signDevToken, startLocalStack } from "@agentcast/testkit";

/**
 * Two gateways behind a balancer and a worker running `users` runs at once. Every load client comes
 * from 127.0.0.1 and they all reconnect at once: the per-IP and per-user connection limits are lifted.
 */
export function startLoadStack(users: number, demoStepMs: number): Promise<LocalStack> {
  return startLocalStack({
    gateways: 2,
    workers: 1,
    balancerPort: 0,
    gatewayEnv: { CONNECT_RATE_PER_IP_PER_SEC: "100000", CONNECT_BURST_PER_IP: "100000", MAX_CONNECTIONS_PER_USER: "100" },
    workerEnv: { WORKER_CONCURRENCY: String(users), DEMO_STEP_MS: String(demoStepMs) },
  });
}

/** `users × perUser` websocket SDK clients through `url`; client i belongs to user `${prefix}-${i % users}`. */
export function sdkClients(
  url: string,
  shape: { users: number; perUser: number; prefix: string },
  options: Partial<ClientOptions>,
): AgentcastClient[] {
  return Array.from({ length: shape.users * shape.perUser }, (_, i) =>
    createClient({ url, getToken: () => signDevToken(`${shape.prefix}-${i % shape.users}`), transports: ["websocket"], ...options }),
  );
}
