import {
  type GatewayProcess,
  GatewayTestClient,
  jsonLine,
  type RedisClusterHandle,
  type RedisServerHandle,
  signDevToken,
  startGatewayProcess,
  startRedisCluster,
  startRedisServer,
  startWorkerProcess,
  type WorkerProcess,
} from "@agentcast/testkit";

export type RedisMode = "single" | "cluster";

export interface Stack {
  /** The one redis-server (in "single" mode; in "cluster" mode, do not use it). */
  redis: RedisServerHandle;
  /** The local Redis Cluster (in "cluster" mode). */
  cluster: RedisClusterHandle | undefined;
  gateways: GatewayProcess[];
  workers: WorkerProcess[];
  /** A connected test client for `userId` on gateway `index`. */
  client(userId: string, gateway?: number): Promise<GatewayTestClient>;
  token(userId: string): Promise<string>;
  /** Log lines at warn level or above from every gateway and worker so far. */
  problems(): string[];
  /** GET/POST against gateway `index` with a bearer token (body: parsed JSON, shape checked by each test). */
  http(
    path: string,
    init?: { userId?: string; token?: string; method?: string; body?: unknown; gateway?: number },
    // biome-ignore lint/suspicious/noExplicitAny: JSON bodies of many shapes; tests assert them with toMatchObject
  ): Promise<{ status: number; body: any }>;
  stop(): Promise<void>;
}

/**
 * A real stack: its own redis-server (or, with `redis: "cluster"`, a local Redis Cluster of 3 masters + 3
 * replicas), `gateways` gateway processes and `workers` worker processes.
 */
export async function startStack(
  opts: {
    gateways?: number;
    workers?: number;
    gatewayEnv?: Record<string, string>;
    workerEnv?: Record<string, string>;
    redis?: RedisMode;
  } = {},
): Promise<Stack> {
  const cluster = opts.redis === "cluster" ? await startRedisCluster() : undefined;
  const redis = cluster ? (cluster.nodes[0] as RedisServerHandle) : await startRedisServer();
  const target = cluster ? { redisClusterNodes: cluster.seeds } : { redisUrl: redis.url };
  const gateways = await Promise.all(
    Array.from({ length: opts.gateways ?? 2 }, (_, i) =>
      startGatewayProcess({ ...target, id: `gw-${i + 1}`, ...(opts.gatewayEnv ? { env: opts.gatewayEnv } : {}) }),
    ),
  );
  const workers = await Promise.all(
    Array.from({ length: opts.workers ?? 1 }, (_, i) =>
      startWorkerProcess({ ...target, id: `wk-${i + 1}`, ...(opts.workerEnv ? { env: opts.workerEnv } : {}) }),
    ),
  );
  const clients: GatewayTestClient[] = [];
  const stack: Stack = {
    redis,
    cluster,
    gateways,
    workers,
    token: (userId) => signDevToken(userId),
    problems: () =>
      [...gateways, ...workers].flatMap((p) =>
        p.child.output.filter((line) => Number(jsonLine(line)?.level ?? 0) >= 40 || line.includes("Error")),
      ),
    async client(userId, gateway = 0) {
      const c = new GatewayTestClient({ url: gatewayAt(gateways, gateway).url, token: await signDevToken(userId) });
      clients.push(c);
      await c.connect();
      return c;
    },
    async http(path, init = {}) {
      const token = init.token ?? (init.userId ? await signDevToken(init.userId) : undefined);
      const res = await fetch(`${gatewayAt(gateways, init.gateway ?? 0).url}${path}`, {
        method: init.method ?? (init.body === undefined ? "GET" : "POST"),
        headers: {
          ...(token ? { authorization: `Bearer ${token}` } : {}),
          ...(init.body === undefined ? {} : { "content-type": "application/json" }),
        },
        ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
      });
      const text = await res.text();
      return { status: res.status, body: text ? JSON.parse(text) : undefined };
    },
    async stop() {
      for (const c of clients) c.disconnect();
      await Promise.all([...workers, ...gateways].map((p) => p.child.stop("SIGTERM", 5_000)));
      if (cluster) await cluster.stop();
      else await redis[Symbol.asyncDispose]();
    },
  };
  return stack;
}

function gatewayAt(gateways: GatewayProcess[], i: number): GatewayProcess {
  const g = gateways[i];
  if (!g) throw new Error(`no gateway ${i}`);
  return g;
}

/** Asserts seqs are exactly from..to, each once, in order; returns a message or null. */
export function seqProblem(seqs: number[], from: number, to: number): string | null {
  const expected = Array.from({ length: to - from + 1 }, (_, i) => from + i);
  return JSON.stringify(seqs) === JSON.stringify(expected) ? null : `expected seqs ${from}..${to}, got ${JSON.stringify(seqs)}`;
}
