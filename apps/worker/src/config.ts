import { hostname } from "node:os";
import { optionalEnvString, parseEnv, portSchema } from "@agentcast/runtime";
import { checkRedisConfig, redactRedisConfig, redisConfigShape } from "@agentcast/store";
import { z } from "zod";
import { AGENTS } from "./agents/registry.js";

/** Worker configuration from the environment. Each field: env key, default, meaning. */
export const workerConfigSchema = z
  .object({
    // REDIS_URL | REDIS_CLUSTER_NODES, REDIS_USERNAME, REDIS_PASSWORD, REDIS_KEY_PREFIX, HISTORY_TTL_SECONDS,
    // RUN_QUEUE_SHARDS: one section, shared with the gateway (packages/store/src/redis-config.ts).
    ...redisConfigShape,
    /** WORKER_CONCURRENCY: runs executed at once by this process (split evenly over RUN_QUEUE_SHARDS queues). */
    WORKER_CONCURRENCY: z.coerce.number().int().min(1, "must be at least 1").max(1000).default(64),
    /** AGENT: which agent runs the jobs (default: `llm` when LLM_BASE_URL is set, else `demo`). */
    AGENT: z
      .string()
      .default("demo")
      .refine((v) => Object.hasOwn(AGENTS, v), { message: `must be one of: ${Object.keys(AGENTS).join(", ")}` }),
    /** AGENT_MODULE: path of an ES module exporting your own agent (or a factory of one), registered as AGENT (default `custom`). */
    AGENT_MODULE: optionalEnvString(z),
    /** DEMO_STEP_MS: pause between the demo agent's steps, in ms. */
    DEMO_STEP_MS: z.coerce.number().int().min(0).max(60_000).default(150),
    /** DEMO_TOKEN_RATE: tokens per second the demo agent streams for `/stream N` (1–10,000). */
    DEMO_TOKEN_RATE: z.coerce.number().int().min(1).max(10_000).default(100),
    /** LLM_BASE_URL: the LLM agent's OpenAI-compatible API, including its /v1 path (Ollama: http://localhost:11434/v1). */
    LLM_BASE_URL: optionalEnvString(z).pipe(
      z.url({ protocol: /^https?$/, error: "must be an http(s) URL including its /v1 path" }).optional(),
    ),
    /** LLM_API_KEY: the provider's API key (empty for a local server). */
    LLM_API_KEY: z.string().default(""),
    /** LLM_MODEL: the model name the provider knows (required with AGENT=llm). */
    LLM_MODEL: optionalEnvString(z),
    /** LLM_SYSTEM_PROMPT: the system prompt (instructions) sent with every request. */
    LLM_SYSTEM_PROMPT: optionalEnvString(z),
    /** LLM_MAX_STEPS: model requests per run (each round of tool calls is one); past it the run ends with llm_max_steps. */
    LLM_MAX_STEPS: z.coerce.number().int().min(1).max(100).default(8),
    /** LLM_TIMEOUT_MS: how long the provider may take to answer, and then to send the next chunk of its stream. */
    LLM_TIMEOUT_MS: z.coerce.number().int().min(100).max(600_000).default(60_000),
    /** LLM_MAX_RETRIES: retries of a provider request on 429, 5xx, network errors and timeouts (Retry-After honoured, at most 10 s a wait). */
    LLM_MAX_RETRIES: z.coerce.number().int().min(0).max(10).default(3),
    /** AGENT_URL: with AGENT=ag-ui, the remote AG-UI agent's endpoint (it takes a POSTed RunAgentInput, answers with an event stream). */
    AGENT_URL: optionalEnvString(z).pipe(z.url({ protocol: /^https?$/, error: "must be an http(s) URL" }).optional()),
    /** AGENT_AUTH_TOKEN: with AGENT=ag-ui, sent to the agent as `Authorization: Bearer` (empty: no header). */
    AGENT_AUTH_TOKEN: z.string().default(""),
    /** AGENT_TIMEOUT_MS: with AGENT=ag-ui, how long the agent may take to answer, and then to send the next chunk of its stream. */
    AGENT_TIMEOUT_MS: z.coerce.number().int().min(100).max(600_000).default(60_000),
    /** AGENT_MAX_RETRIES: with AGENT=ag-ui, retries of a request on 429, 5xx, network errors and timeouts before the agent answers. */
    AGENT_MAX_RETRIES: z.coerce.number().int().min(0).max(10).default(2),
    /** METRICS_PORT: Prometheus /metrics port (0 = any free port). */
    METRICS_PORT: portSchema(z, 9465),
    /** METRICS_HOST: interface for the metrics server. */
    METRICS_HOST: z.string().min(1).default("0.0.0.0"),
    /** HISTORY_MAX_LEN: entries a task's history holds (events + snapshots); over it, old deltas are folded into snapshots. */
    HISTORY_MAX_LEN: z.coerce.number().int().min(100).max(1_000_000).default(10_000),
    /** CONVERSATION_MAX_TURNS: earlier runs a task's conversation keeps (ctx.conversation); the oldest go first. */
    CONVERSATION_MAX_TURNS: z.coerce.number().int().min(1).max(1_000).default(50),
    /** CONVERSATION_MAX_BYTES: bytes of a task's conversation (turn JSON); past it the oldest turns go (the newest stays). */
    CONVERSATION_MAX_BYTES: z.coerce.number().int().min(4_096).max(16_777_216).default(262_144),
    /** CONVERSATION_MAX_ANSWER_CHARS: characters of one run's answer kept in its turn (the start; the turn says `truncated`). */
    CONVERSATION_MAX_ANSWER_CHARS: z.coerce.number().int().min(100).max(1_000_000).default(32_768),
    /**
     * HISTORY_MAX_BYTES: bytes (event envelopes and snapshots) a task's history holds; over it, old deltas are
     * folded into snapshots, then the oldest events and snapshots dropped. The minimum holds a 100,000-token answer.
     */
    HISTORY_MAX_BYTES: z.coerce.number().int().min(1_048_576).max(536_870_912).default(8_388_608),
    /**
     * OUTPUT_COALESCE_MS: consecutive agent_output (and streamed agent_thinking) deltas of a run are merged into
     * one event per window, opened at the first buffered delta (not a debounce); 0 = one event per delta.
     */
    OUTPUT_COALESCE_MS: z.coerce.number().int().min(0).max(1_000).default(40),
    /** OUTPUT_COALESCE_MAX_BYTES: a window closes early once this many bytes (UTF-8) are pending. */
    OUTPUT_COALESCE_MAX_BYTES: z.coerce.number().int().min(1).max(262_144).default(4_096),
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
  })
  .superRefine(checkRedisConfig)
  .superRefine((c, ctx) => {
    if (c.AGENT === "ag-ui" && !c.AGENT_URL) ctx.addIssue({ code: "custom", path: ["AGENT_URL"], message: "required with AGENT=ag-ui" });
    if (c.AGENT !== "llm") return;
    if (!c.LLM_BASE_URL) ctx.addIssue({ code: "custom", path: ["LLM_BASE_URL"], message: "required with AGENT=llm" });
    if (!c.LLM_MODEL) ctx.addIssue({ code: "custom", path: ["LLM_MODEL"], message: "required with AGENT=llm" });
  });

export type WorkerConfig = Readonly<z.infer<typeof workerConfigSchema>>;

export function loadWorkerConfig(env: NodeJS.ProcessEnv = process.env): WorkerConfig {
  // With LLM_BASE_URL and no AGENT, the LLM agent runs the jobs.
  const withAgent = env.AGENT || !env.LLM_BASE_URL ? env : { ...env, AGENT: "llm" };
  return parseEnv(workerConfigSchema, withAgent, "worker");
}

/** The config with secrets redacted, for --print-config. */
export function redactWorkerConfig(config: WorkerConfig): Record<string, unknown> {
  return {
    ...config,
    ...redactRedisConfig(config),
    LLM_API_KEY: config.LLM_API_KEY ? "(set)" : "",
    AGENT_AUTH_TOKEN: config.AGENT_AUTH_TOKEN ? "(set)" : "",
  };
}
