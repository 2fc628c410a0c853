import { isAbsolute, resolve } from "node:path";
import { type ChildHandle, jsonLine, spawnUntil } from "./child.js";
import { requireEntry, resolveAppEntry } from "./entries.js";

/** Default entry points (see `resolveAppEntry`): env override, installed package, or the repository's build. */
export const GATEWAY_ENTRY = resolveAppEntry("gateway");
export const WORKER_ENTRY = resolveAppEntry("worker");

/** A JWT secret for local stacks and tests only. */
export const DEV_JWT_SECRET = "agentcast-dev-secret-not-for-production-0123456789";

export interface GatewayProcess {
  readonly id: string;
  readonly port: number;
  readonly metricsPort: number;
  readonly url: string;
  readonly child: ChildHandle;
  stop(signal?: NodeJS.Signals): Promise<void>;
  kill(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

export interface WorkerProcess {
  readonly id: string;
  readonly metricsPort: number;
  /** The agent the worker runs, as its "worker ready" line names it (undefined with a custom `ready`). */
  readonly agent: string | undefined;
  readonly child: ChildHandle;
  stop(signal?: NodeJS.Signals): Promise<void>;
  kill(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

let counter = 0;

/** REDIS_URL or REDIS_CLUSTER_NODES for a child, the other one cleared (a child inherits this process's env). */
function redisEnv(opts: { redisUrl?: string | undefined; redisClusterNodes?: string | undefined }): Record<string, string> {
  if (opts.redisClusterNodes) return { REDIS_URL: "", REDIS_CLUSTER_NODES: opts.redisClusterNodes };
  if (!opts.redisUrl) throw new Error("give redisUrl or redisClusterNodes");
  return { REDIS_URL: opts.redisUrl, REDIS_CLUSTER_NODES: "" };
}

/** Starts the gateway (`entry`, default: see `resolveAppEntry`) on free ports and waits for its "gateway listening" log. */
export async function startGatewayProcess(opts: {
  /** One Redis node (or give `redisClusterNodes`). */
  redisUrl?: string;
  /** A Redis Cluster's seed nodes, `host:port,…` (REDIS_CLUSTER_NODES). */
  redisClusterNodes?: string;
  id?: string;
  env?: Record<string, string>;
  entry?: string;
}): Promise<GatewayProcess> {
  const entry = requireEntry("gateway", opts.entry);
  const id = opts.id ?? `gw-test-${process.pid}-${++counter}`;
  const env = {
    ...process.env,
    PORT: "0",
    METRICS_PORT: "0",
    HOST: "127.0.0.1",
    ...redisEnv(opts),
    JWT_SECRET: DEV_JWT_SECRET,
    GATEWAY_ID: id,
    LOG_LEVEL: "info",
    ...opts.env,
  };
  const { child, value } = await spawnUntil(process.execPath, [entry], {
    env,
    name: `gateway ${id}`,
    ready: (line) => {
      const j = jsonLine(line);
      return j?.msg === "gateway listening" ? { port: Number(j.port), metricsPort: Number(j.metricsPort) } : undefined;
    },
  });
  return {
    id,
    ...value,
    url: `http://127.0.0.1:${value.port}`,
    child,
    async stop(signal = "SIGTERM") {
      await child.stop(signal);
    },
    kill: () => child.kill(),
    async [Symbol.asyncDispose]() {
      await child.stop("SIGTERM", 5_000);
    },
  };
}

export interface WorkerProcessOptions {
  /** One Redis node (or give `redisClusterNodes`). */
  redisUrl?: string;
  /** A Redis Cluster's seed nodes, `host:port,…` (REDIS_CLUSTER_NODES). */
  redisClusterNodes?: string;
  id?: string;
  env?: Record<string, string>;
  /** The worker's entry point — e.g. your own worker process. Default: the agentcast worker (`resolveAppEntry`). */
  entry?: string;
  /**
   * A module whose default export (or `createAgent` export) is your agent — an object with `name` and
   * `run(ctx)`, or a factory returning one. The agentcast worker (`entry`) loads it
   * through its AGENT_MODULE setting and runs it as AGENT=custom.
   */
  agentModule?: string;
  /** When the process counts as ready (default: its JSON log line `{"msg":"worker ready"}`). */
  ready?: (line: string) => boolean;
}

/** Starts a worker and waits until it is ready (default: its "worker ready" log). */
export async function startWorkerProcess(opts: WorkerProcessOptions): Promise<WorkerProcess> {
  const entry = requireEntry("worker", opts.entry);
  const id = opts.id ?? `wk-test-${process.pid}-${++counter}`;
  const env = {
    ...process.env,
    METRICS_PORT: "0",
    METRICS_HOST: "127.0.0.1",
    ...redisEnv(opts),
    WORKER_ID: id,
    DEMO_STEP_MS: "20",
    LOG_LEVEL: "info",
    // The worker loads it itself (AGENT_MODULE) and registers it as AGENT=custom.
    ...(opts.agentModule
      ? { AGENT: "custom", AGENT_MODULE: isAbsolute(opts.agentModule) ? opts.agentModule : resolve(opts.agentModule) }
      : {}),
    ...opts.env,
  };
  const ready = opts.ready;
  const { child, value } = await spawnUntil(process.execPath, [entry], {
    env,
    name: `worker ${id}`,
    ready: (line) => {
      const j = jsonLine(line);
      const agent = typeof j?.agent === "string" ? j.agent : undefined;
      if (ready) return ready(line) ? { metricsPort: Number(j?.metricsPort ?? 0), agent } : undefined;
      return j?.msg === "worker ready" ? { metricsPort: Number(j.metricsPort), agent } : undefined;
    },
  });
  return {
    id,
    ...value,
    child,
    async stop(signal = "SIGTERM") {
      await child.stop(signal);
    },
    kill: () => child.kill(),
    async [Symbol.asyncDispose]() {
      await child.stop("SIGTERM", 5_000);
    },
  };
}
