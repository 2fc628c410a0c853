import { connectRedis, createKeys, redisTargetOf, TaskStore } from "@agentcast/store";
import { type GatewayProcess, signDevToken, startGatewayProcess } from "@agentcast/testkit";
import { ChildRpc } from "../common/ipc.js";
import type { PaceResult } from "../common/pacer.js";
import { scrapeMetric } from "../common/proc-stats.js";
import type { PublishArgs, System, SystemOptions, Target } from "./system.js";

/**
 * Limits that protect a production gateway from abuse would throttle the load generator (one
 * machine, few source addresses, many sockets per user): raised for the benchmark.
 */
export const BENCH_GATEWAY_ENV: Record<string, string> = {
  CONNECT_RATE_PER_IP_PER_SEC: "1000000",
  CONNECT_BURST_PER_IP: "1000000",
  MAX_CONNECTIONS_PER_USER: "5000",
  RATE_LIMIT_USER_COMMANDS_PER_MIN: "1000000",
  HISTORY_TTL_SECONDS: "3600",
  DRAIN_WINDOW_MS: "0",
  // Node/V8 flags for the gateway processes only (to measure a runtime lever); empty = the gateway's own.
  ...(process.env.BENCH_GATEWAY_NODE_OPTIONS ? { NODE_OPTIONS: process.env.BENCH_GATEWAY_NODE_OPTIONS } : {}),
};

/**
 * agentcast: real gateway processes (apps/gateway/dist/main.js) and the real EventPublisher in its own
 * process, on one Redis node or (with `cluster`) on a Redis Cluster, configured as in production.
 */
export async function startAgentcastSystem(opts: SystemOptions): Promise<System> {
  const where = opts.cluster ? { redisClusterNodes: opts.cluster.seeds } : { redisUrl: opts.redisUrl };
  const gateways: GatewayProcess[] = await Promise.all(
    Array.from({ length: opts.servers }, (_, i) => startGatewayProcess({ ...where, id: `gw-${i + 1}`, env: BENCH_GATEWAY_ENV })),
  );
  // The other one cleared: a child inherits the bench's env, which may name a cluster (REDIS_CLUSTER_NODES).
  const redisEnv = opts.cluster
    ? { REDIS_URL: "", REDIS_CLUSTER_NODES: opts.cluster.seeds }
    : { REDIS_URL: opts.redisUrl, REDIS_CLUSTER_NODES: "" };
  const publisher = ChildRpc.start("publisher", { PUBLISHER: "agentcast", ...redisEnv });
  const target = redisTargetOf({
    REDIS_URL: opts.cluster ? undefined : opts.redisUrl,
    REDIS_CLUSTER_NODES: opts.cluster?.seeds,
    REDIS_USERNAME: undefined,
    REDIS_PASSWORD: undefined,
  });
  const redis = connectRedis(target, "commands", { name: "bench:tasks" });
  const tasks = new TaskStore(redis, { keys: createKeys("ac"), historyTtlSeconds: 3_600 });
  return {
    name: opts.cluster ? "agentcast-cluster" : "agentcast",
    redisNodes: opts.cluster ? opts.cluster.masters : [new URL(opts.redisUrl).host],
    protocol: "agentcast",
    urls: gateways.map((g) => g.url),
    serverPids: gateways.map((g) => g.child.pid),
    async targets(count, tag, o = {}) {
      const out: Target[] = [];
      for (let i = 0; i < count; i++) {
        const userId = o.user ?? `${tag}-u${i}`;
        const token = await signDevToken(userId, { expiresInSeconds: 6 * 3600 });
        if (o.tasks === false) {
          out.push({ name: userId, publish: userId, token });
          continue;
        }
        const { taskId, runId } = await tasks.createTask(userId, `bench ${tag} ${i}`);
        out.push({ name: taskId, publish: { taskId, runId, userId }, token });
      }
      return out;
    },
    publish: (args: PublishArgs) =>
      publisher.call<PaceResult>("publish", { ...args, targets: args.targets.map((t) => t.publish) }, args.durationMs + 60_000),
    heapUsed: (i) => scrapeMetric((gateways[i] as GatewayProcess).metricsPort, "nodejs_heap_size_used_bytes"),
    subscriberNames: () => gateways.map((g) => `${g.id}:sub`),
    kill: async (i) => {
      await (gateways[i] as GatewayProcess).kill();
    },
    async stop() {
      redis.disconnect();
      await Promise.all([publisher.stop(), ...gateways.map((g) => g.child.stop("SIGTERM", 5_000).catch(() => undefined))]);
    },
  };
}
