import { startMetricsServer, watchRedisLiveness, watchRedisOutages } from "@agentcast/runtime";
import {
  ConversationStore,
  connectRedis,
  createKeys,
  EventLog,
  EventPublisher,
  type RunJobData,
  RunQueues,
  redisTargetOf,
  runQueueName,
  TaskStore,
  watchRedisCluster,
} from "@agentcast/store";
import { Worker } from "bullmq";
import type { Logger } from "pino";
import { AGENTS } from "./agents/registry.js";
import type { WorkerConfig } from "./config.js";
import { ConsumerLiveness } from "./consumer/consumer-liveness.js";
import { ActiveRuns } from "./control/active-runs.js";
import { createWorkerMetrics, QUEUE_STATES } from "./metrics/worker-metrics.js";
import { type ExecuteRunDeps, executeRun } from "./runs/execute-run.js";

export interface AgentWorker {
  start(): Promise<{ metricsPort: number }>;
  stop(): Promise<void>;
}

/** The one wiring place of the worker: Redis, the BullMQ worker, the agent, control messages, metrics. */
export function createAgentWorker(config: WorkerConfig, logger: Logger): AgentWorker {
  const keys = createKeys(config.REDIS_KEY_PREFIX);
  const target = redisTargetOf(config);
  const cmd = connectRedis(target, "commands", { name: `${config.WORKER_ID}:cmd` });
  // Control messages (cancel, answer): classic pub/sub, which a cluster delivers from any node.
  const sub = connectRedis(target, "subscriber", { name: `${config.WORKER_ID}:control` });
  const bull = connectRedis(target, "blocking", { name: `${config.WORKER_ID}:bull` });
  const queue = new RunQueues({ connection: cmd, prefix: keys.queuePrefix, shards: config.RUN_QUEUE_SHARDS });
  const metrics = createWorkerMetrics(
    config.WORKER_ID,
    () => queue.getJobCounts(...QUEUE_STATES),
    () => redisCluster?.health(),
  );
  const redisOutages = watchRedisOutages(
    [
      ["cmd", cmd],
      ["sub", sub],
      ["bull", bull],
    ],
    { onOutage: () => metrics.silentFailures.inc("redis_error"), logger },
  );
  // Not the BullMQ connection: its blocking commands would hold a PING back and look like a dead link.
  // On a cluster the probe of every master (watchRedisCluster below) does this job, node by node.
  const redisLiveness = watchRedisLiveness(
    target.mode === "cluster"
      ? []
      : [
          ["cmd", cmd],
          ["sub", sub],
        ],
    { intervalMs: config.REDIS_PING_INTERVAL_MS, timeoutMs: config.REDIS_PING_TIMEOUT_MS, logger },
  );
  // On a cluster: topology changes, redirections, node errors and a probe of every master (metrics; all silent: reconnect).
  const redisCluster = watchRedisCluster(
    [
      ["cmd", cmd],
      ["sub", sub],
      ["bull", bull],
    ],
    {
      probeIntervalMs: config.REDIS_PING_INTERVAL_MS,
      probeTimeoutMs: config.REDIS_PING_TIMEOUT_MS,
      observer: metrics.redisCluster,
      logger,
    },
  );
  const tasks = new TaskStore(cmd, { keys, historyTtlSeconds: config.HISTORY_TTL_SECONDS });
  const makeAgent = AGENTS[config.AGENT];
  if (!makeAgent) throw new Error(`AGENT: unknown agent ${config.AGENT}`);
  const agent = makeAgent({
    demoStepMs: config.DEMO_STEP_MS,
    demoTokenRate: config.DEMO_TOKEN_RATE,
    ...(config.LLM_BASE_URL && config.LLM_MODEL
      ? {
          llm: {
            baseUrl: config.LLM_BASE_URL,
            apiKey: config.LLM_API_KEY,
            model: config.LLM_MODEL,
            ...(config.LLM_SYSTEM_PROMPT ? { systemPrompt: config.LLM_SYSTEM_PROMPT } : {}),
            maxSteps: config.LLM_MAX_STEPS,
            timeoutMs: config.LLM_TIMEOUT_MS,
            maxRetries: config.LLM_MAX_RETRIES,
          },
        }
      : {}),
    llmObserver: {
      request: (seconds, outcome) => metrics.llmRequestDuration.observe({ outcome }, seconds),
      tokens: (kind, count) => metrics.llmTokens.inc({ kind }, count),
      error: (code) => metrics.llmErrors.inc({ code }),
    },
    ...(config.AGENT_URL
      ? {
          agUi: {
            url: config.AGENT_URL,
            ...(config.AGENT_AUTH_TOKEN ? { authToken: config.AGENT_AUTH_TOKEN } : {}),
            timeoutMs: config.AGENT_TIMEOUT_MS,
            maxRetries: config.AGENT_MAX_RETRIES,
          },
        }
      : {}),
    agUiObserver: {
      request: (seconds, outcome) => metrics.agUiRequestDuration.observe({ outcome }, seconds),
      refused: (reason) => metrics.agUiEventsRefused.inc({ reason }),
      error: (code) => metrics.agUiErrors.inc({ code }),
    },
  });
  const knownTools = new Set(agent.tools ?? []);
  const active = new ActiveRuns(sub, keys.controlChannel, tasks, config.CONTROL_POLL_MS, config.RUN_STALL_TIMEOUT_MS, logger);
  const runDeps: ExecuteRunDeps = {
    eventLog: new EventLog(cmd, keys),
    conversations: new ConversationStore(cmd, keys),
    conversationBounds: {
      maxTurns: config.CONVERSATION_MAX_TURNS,
      maxBytes: config.CONVERSATION_MAX_BYTES,
      maxAnswerChars: config.CONVERSATION_MAX_ANSWER_CHARS,
      ttlSeconds: config.HISTORY_TTL_SECONDS,
    },
    maxAnswerChars: config.CONVERSATION_MAX_ANSWER_CHARS,
    publisher: new EventPublisher(cmd, {
      keys,
      historyMaxLen: config.HISTORY_MAX_LEN,
      historyMaxBytes: config.HISTORY_MAX_BYTES,
      historyTtlSeconds: config.HISTORY_TTL_SECONDS,
      waitReplicas: config.REDIS_WAIT_REPLICAS,
      waitTimeoutMs: config.REDIS_WAIT_TIMEOUT_MS,
    }),
    tasks,
    logger,
    pollIntervalMs: config.CONTROL_POLL_MS,
    coalesce: { windowMs: config.OUTPUT_COALESCE_MS, maxBytes: config.OUTPUT_COALESCE_MAX_BYTES },
    requeue: async (job) => {
      const next = await tasks.startRun(job.userId, job.taskId);
      if (!next.ok) return void logger.warn({ taskId: job.taskId, code: next.code }, "could not re-queue after shutdown");
      await queue.add({ ...job, runId: next.runId });
      logger.info({ taskId: job.taskId, runId: next.runId, previousRunId: job.runId }, "run re-queued after worker shutdown");
    },
    observer: {
      published: (type) => metrics.eventsPublished.inc({ type }),
      compacted: (folded, trimmed) => {
        metrics.historyCompacted.inc({ outcome: "folded" }, folded);
        metrics.historyCompacted.inc({ outcome: "trimmed" }, trimmed);
      },
      toolFinished: (tool, ms) => metrics.toolDuration.observe({ tool: knownTools.has(tool) ? tool : "other" }, ms / 1000),
      silentFailure: (kind) => metrics.silentFailures.inc(kind),
      runEnded: (status, ms) => {
        metrics.runs.inc({ status });
        if (ms > 0) metrics.runDuration.observe(ms / 1000);
      },
    },
  };

  // One BullMQ worker per run queue shard, WORKER_CONCURRENCY split evenly between them.
  const concurrency = Math.max(1, Math.ceil(config.WORKER_CONCURRENCY / config.RUN_QUEUE_SHARDS));
  const workers = Array.from(
    { length: config.RUN_QUEUE_SHARDS },
    (_, shard) =>
      new Worker<RunJobData>(runQueueName(shard), (job) => executeRun(job.data, job.id ?? job.data.runId, agent, active, runDeps), {
        connection: bull,
        prefix: keys.queuePrefix,
        concurrency,
        autorun: false,
        // A dead worker's job is re-queued once its lock lapses; the next worker ends it as run_stalled.
        lockDuration: config.JOB_LOCK_MS,
        stalledInterval: config.JOB_LOCK_MS,
        maxStalledCount: 1,
      }),
  );
  for (const worker of workers) {
    worker.on("error", (err) => logger.warn({ err: err.message }, "worker error"));
    worker.on("failed", (job, err) => logger.error({ jobId: job?.id, err: err.message }, "job failed"));
  }
  const consumers = workers.map((worker) => new ConsumerLiveness(worker, logger, () => metrics.consumerStopped.inc()));

  let metricsServer: Awaited<ReturnType<typeof startMetricsServer>>["server"] | undefined;
  return {
    async start() {
      await active.start();
      // Liveness: the job consumer loop still runs.
      const m = await startMetricsServer(metrics.registry, config.METRICS_PORT, config.METRICS_HOST, {
        healthz: () => consumers.map((c) => c.health()).find((h) => !h.ok) ?? { ok: true },
      });
      metricsServer = m.server;
      for (const consumer of consumers) consumer.start();
      await Promise.all(workers.map((w) => w.waitUntilReady()));
      logger.info(
        { metricsPort: m.port, agent: agent.name, concurrency: config.WORKER_CONCURRENCY, queueShards: config.RUN_QUEUE_SHARDS },
        "worker ready",
      );
      return { metricsPort: m.port };
    },
    async stop() {
      // Take no new jobs; give active runs WORKER_DRAIN_MS, then end them (worker_shutdown) and re-queue them.
      for (const consumer of consumers) consumer.stop();
      const closed = Promise.all(workers.map((w) => w.close()));
      const deadline = setTimeout(() => {
        for (const run of active.all()) run.shutdown();
      }, config.WORKER_DRAIN_MS);
      await closed;
      clearTimeout(deadline);
      active.stop();
      metricsServer?.close();
      redisOutages.stop(); // the connections close on purpose from here on
      redisLiveness.stop();
      redisCluster?.stop();
      await queue.close().catch(() => {});
      for (const client of [cmd, sub, bull]) client.disconnect();
    },
  };
}
