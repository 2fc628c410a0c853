import { type GatewayProcess, startGatewayProcess, startWorkerProcess, type WorkerProcess } from "./app-processes.js";
import { type RedisClusterHandle, startRedisCluster } from "./redis-cluster.js";
import { type RedisServerHandle, startRedisServer } from "./redis-server.js";
import { startTcpBalancer, type TcpBalancer } from "./tcp-balancer.js";

export interface LocalStackOptions {
  gateways?: number;
  workers?: number;
  /** Use this Redis instead of spawning a redis-server. */
  redisUrl?: string;
  /** `"cluster"`: spawn a local Redis Cluster (3 masters + 3 replicas) instead of one redis-server. */
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
  readonly redis: RedisServerHandle | undefined;
  /** The local cluster, with `redis: "cluster"`. */
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
  const cluster = opts.redis === "cluster" && !opts.redisUrl ? await startRedisCluster() : undefined;
  const redis = opts.redisUrl || cluster ? undefined : await startRedisServer();
  const redisUrl = opts.redisUrl ?? redis?.url ?? "";
  const target = cluster ? { redisClusterNodes: cluster.seeds } : { redisUrl };
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
