import { type GatewayProcess, startGatewayProcess, startWorkerProcess, type WorkerProcess } from "./app-processes.js";
import { type RedisClusterHandle, startRedisCluster } from "./redis-cluster.js";
import { type RedisServerHandle, startRedisServer } from "./redis-server.js";
import { startTcpBalancer, type TcpBalancer } from "./tcp-balancer.js";

export interface LocalStackOptions {
  gateways?: number;
  workers?: number;
  /** Use this Redis node instead of spawning a redis-server. */
  redisUrl?: string;
  /** Use this Redis Cluster (seed nodes, `host:port,…`) instead of spawning Redis. */
  redisClusterNodes?: string;
  /**
   * What to spawn when neither `redisUrl` nor `redisClusterNodes` is given: one redis-server (`"single"`) or a
   * local Redis Cluster of 3 masters + 3 replicas (`"cluster"`). Unset: use the cluster named by the env var
   * REDIS_CLUSTER_NODES if it is set (the processes then also inherit REDIS_USERNAME / REDIS_PASSWORD), else
   * spawn one redis-server.
   */
  redis?: "single" | "cluster";
  /** Put a round-robin balancer on this port (0 = any free port) in front of the gateways. */
  balancerPort?: number;
  gatewayEnv?: Record<string, string>;
  workerEnv?: Record<string, string>;
  /** The gateway's entry point (default: env AGENTCAST_GATEWAY_ENTRY, the installed @agentcast/gateway, or the repo's build). */
  gatewayEntry?: string;
  /** Your own worker process to run instead of the agentcast worker (it must log `{"msg":"worker ready"}` or use `workerReady`). */
  workerEntry?: string;
  /** A module exporting your agent (or a factory of it), run inside the agentcast worker — see `startWorkerProcess`. */
  agentModule?: string;
  /** When a worker counts as ready (default: its JSON log line `{"msg":"worker ready"}`). */
  workerReady?: (line: string) => boolean;
}

export interface LocalStack {
  /** The one Redis node's URL ("" on a cluster). */
  readonly redisUrl: string;
  /** The cluster's seed nodes, `host:port,…` ("" on one node). */
  readonly redisClusterNodes: string;
  /** The redis-server this stack spawned, if it spawned one. */
  readonly redis: RedisServerHandle | undefined;
  /** The local cluster this stack spawned, with `redis: "cluster"`. */
  readonly cluster: RedisClusterHandle | undefined;
  readonly gateways: GatewayProcess[];
  readonly workers: WorkerProcess[];
  readonly balancer: TcpBalancer | undefined;
  /** The balancer's URL, or the first gateway's. */
  readonly url: string;
  stop(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

/**
 * A real agentcast stack on this machine: redis-server (unless given), N gateways, M workers and
 * optionally a balancer — for running your own agent end to end inside vitest, jest or node:test.
 */
export async function startLocalStack(opts: LocalStackOptions = {}): Promise<LocalStack> {
  const given = givenRedis(opts);
  const cluster = given === undefined && opts.redis === "cluster" ? await startRedisCluster() : undefined;
  const redis = given === undefined && !cluster ? await startRedisServer() : undefined;
  const redisUrl = given?.redisUrl ?? redis?.url ?? "";
  const redisClusterNodes = given?.redisClusterNodes ?? cluster?.seeds ?? "";
  const target = redisClusterNodes ? { redisClusterNodes } : { redisUrl };
  const gateways: GatewayProcess[] = [];
  const workers: WorkerProcess[] = [];
  let balancer: TcpBalancer | undefined;
  const stop = async () => {
    await balancer?.close().catch(() => {});
    await Promise.all([...workers, ...gateways].map((p) => p.child.stop("SIGTERM", 15_000).catch(() => undefined)));
    await redis?.[Symbol.asyncDispose]().catch(() => {});
    await cluster?.stop().catch(() => {});
  };
  try {
    gateways.push(
      ...(await Promise.all(
        Array.from({ length: opts.gateways ?? 2 }, (_, i) =>
          startGatewayProcess({
            ...target,
            id: `gw-${i + 1}`,
            ...(opts.gatewayEnv ? { env: opts.gatewayEnv } : {}),
            ...(opts.gatewayEntry ? { entry: opts.gatewayEntry } : {}),
          }),
        ),
      )),
    );
    workers.push(
      ...(await Promise.all(
        Array.from({ length: opts.workers ?? 1 }, (_, i) =>
          startWorkerProcess({
            ...target,
            id: `wk-${i + 1}`,
            ...(opts.workerEnv ? { env: opts.workerEnv } : {}),
            ...(opts.workerEntry ? { entry: opts.workerEntry } : {}),
            ...(opts.agentModule ? { agentModule: opts.agentModule } : {}),
            ...(opts.workerReady ? { ready: opts.workerReady } : {}),
          }),
        ),
      )),
    );
    if (opts.balancerPort !== undefined)
      balancer = await startTcpBalancer({ port: opts.balancerPort, backends: gateways.map((g) => g.port) });
  } catch (err) {
    await stop();
    throw err;
  }
  return {
    redisUrl,
    redisClusterNodes,
    redis,
    cluster,
    gateways,
    workers,
    balancer,
    url: balancer ? `http://127.0.0.1:${balancer.port}` : (gateways[0]?.url ?? ""),
    stop,
    [Symbol.asyncDispose]: stop,
  };
}

/** The Redis the caller named (option, or env REDIS_CLUSTER_NODES when `redis` is not chosen), or undefined: spawn one. */
function givenRedis(
  opts: LocalStackOptions,
): { redisUrl: string; redisClusterNodes?: never } | { redisClusterNodes: string; redisUrl?: never } | undefined {
  if (opts.redisUrl) return { redisUrl: opts.redisUrl };
  if (opts.redisClusterNodes) return { redisClusterNodes: opts.redisClusterNodes };
  const fromEnv = process.env.REDIS_CLUSTER_NODES?.trim();
  if (opts.redis === undefined && fromEnv) return { redisClusterNodes: fromEnv };
  return undefined;
}
