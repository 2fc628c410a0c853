import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { type ChildHandle, jsonLine, spawnUntil } from "./child.js";

/** The repository's built entry points (this file lives in packages/testkit/{src,dist}/stack). */
// Paths from strings, not `new URL(…)`: test environments such as jsdom replace the global URL.
const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "../../../..");
export const GATEWAY_ENTRY = resolve(repoRoot, "apps/gateway/dist/main.js");
export const WORKER_ENTRY = resolve(repoRoot, "apps/worker/dist/main.js");

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
  readonly child: ChildHandle;
  stop(signal?: NodeJS.Signals): Promise<void>;
  kill(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

let counter = 0;

/** Starts `node apps/gateway/dist/main.js` on free ports and waits for its "gateway listening" log. */
export async function startGatewayProcess(opts: {
  redisUrl: string;
  id?: string;
  env?: Record<string, string>;
  entry?: string;
}): Promise<GatewayProcess> {
  const id = opts.id ?? `gw-test-${process.pid}-${++counter}`;
  const env = {
    ...process.env,
    PORT: "0",
    METRICS_PORT: "0",
    HOST: "127.0.0.1",
    REDIS_URL: opts.redisUrl,
    JWT_SECRET: DEV_JWT_SECRET,
    GATEWAY_ID: id,
    LOG_LEVEL: "info",
    ...opts.env,
  };
  const { child, value } = await spawnUntil(process.execPath, [opts.entry ?? GATEWAY_ENTRY], {
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

/** Starts `node apps/worker/dist/main.js` and waits for its "worker ready" log. */
export async function startWorkerProcess(opts: {
  redisUrl: string;
  id?: string;
  env?: Record<string, string>;
  entry?: string;
}): Promise<WorkerProcess> {
  const id = opts.id ?? `wk-test-${process.pid}-${++counter}`;
  const env = {
    ...process.env,
    METRICS_PORT: "0",
    METRICS_HOST: "127.0.0.1",
    REDIS_URL: opts.redisUrl,
    WORKER_ID: id,
    DEMO_STEP_MS: "20",
    LOG_LEVEL: "info",
    ...opts.env,
  };
  const { child, value } = await spawnUntil(process.execPath, [opts.entry ?? WORKER_ENTRY], {
    env,
    name: `worker ${id}`,
    ready: (line) => {
      const j = jsonLine(line);
      return j?.msg === "worker ready" ? { metricsPort: Number(j.metricsPort) } : undefined;
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
