import { hostname } from "node:os";
import { optionalEnvString, parseEnv, portSchema } from "@agentcast/runtime";
import { z } from "zod";
import { AGENTS } from "./agents/registry.js";

/** Worker configuration from the environment. Each field: env key, default, meaning. */
export const workerConfigSchema = z.object({
  /** REDIS_URL: Redis for the queue, history and pub/sub. */
  REDIS_URL: z
    .string()
    .regex(/^rediss?:\/\//, "must be a redis:// or rediss:// URL")
    .default("redis://127.0.0.1:6379"),
  /** REDIS_KEY_PREFIX: prefix of every Redis key (must match the gateways'). */
  REDIS_KEY_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9_.-]{1,32}$/, "must be 1-32 of A-Z a-z 0-9 _ . -")
    .default("ac"),
  /** WORKER_CONCURRENCY: runs executed at once by this process. */
  WORKER_CONCURRENCY: z.coerce.number().int().min(1, "must be at least 1").max(1000).default(16),
  /** AGENT: which agent runs the jobs. */
  AGENT: z
    .string()
    .default("demo")
    .refine((v) => Object.hasOwn(AGENTS, v), { message: `must be one of: ${Object.keys(AGENTS).join(", ")}` }),
  /** AGENT_MODULE: path of an ES module exporting your own agent (or a factory of one), registered as AGENT (default `custom`). */
  AGENT_MODULE: optionalEnvString(z),
  /** DEMO_STEP_MS: pause between the demo agent's steps, in ms. */
  DEMO_STEP_MS: z.coerce.number().int().min(0).max(60_000).default(150),
  /** METRICS_PORT: Prometheus /metrics port (0 = any free port). */
  METRICS_PORT: portSchema(z, 9465),
  /** METRICS_HOST: interface for the metrics server. */
  METRICS_HOST: z.string().min(1).default("0.0.0.0"),
  /** HISTORY_MAX_LEN: events retained per task (approximate trim). */
  HISTORY_MAX_LEN: z.coerce.number().int().min(100).default(10_000),
  /** HISTORY_TTL_SECONDS: idle lifetime of a task and its history, refreshed at each run's first and last event, at a question, and every 32 events between. */
  HISTORY_TTL_SECONDS: z.coerce.number().int().positive().default(86_400),
  /** CONTROL_POLL_MS: how often a run re-checks Redis for a cancel or an answer it may have missed. */
  CONTROL_POLL_MS: z.coerce.number().int().min(50).max(60_000).default(1_000),
  /** RUN_STALL_TIMEOUT_MS: a run with no event for this long (not counting waits for the user) is ended as run_stalled. */
  RUN_STALL_TIMEOUT_MS: z.coerce.number().int().min(500).max(86_400_000).default(120_000),
  /** WORKER_DRAIN_MS: on SIGTERM, active runs may finish for this long; then they end with worker_shutdown and are re-queued. */
  WORKER_DRAIN_MS: z.coerce.number().int().min(0).max(3_600_000).default(20_000),
  /** JOB_LOCK_MS: BullMQ job lock; a run whose worker died is detected within about twice this. */
  JOB_LOCK_MS: z.coerce.number().int().min(1_000).max(600_000).default(30_000),
  /** WORKER_ID: this process's id in logs and metrics. */
  WORKER_ID: z.string().min(1).max(128).default(`wk-${hostname()}-${process.pid}`),
  /** REDIS_PING_INTERVAL_MS: how often the command and control connections are PINGed to find one that silently stopped answering. */
  REDIS_PING_INTERVAL_MS: z.coerce.number().int().min(100).max(600_000).default(5_000),
  /** REDIS_PING_TIMEOUT_MS: a connection whose PING is unanswered this long is torn down and reconnected. */
  REDIS_PING_TIMEOUT_MS: z.coerce.number().int().min(100).max(600_000).default(10_000),
  /** LOG_LEVEL: pino level. */
  LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
});

export type WorkerConfig = Readonly<z.infer<typeof workerConfigSchema>>;

export function loadWorkerConfig(env: NodeJS.ProcessEnv = process.env): WorkerConfig {
  return parseEnv(workerConfigSchema, env, "worker");
}
