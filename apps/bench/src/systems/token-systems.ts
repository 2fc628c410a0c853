import { createKeys, runJobOptions, runQueueName, TaskStore } from "@agentcast/store";
import { type GatewayProcess, signDevToken, startGatewayProcess, startWorkerProcess, type WorkerProcess } from "@agentcast/testkit";
import { Queue } from "bullmq";
import { Redis } from "ioredis";
import type { Protocol } from "../common/bench-conn.js";
import { ChildRpc, childEntry } from "../common/ipc.js";
import type { TokenSchedule } from "../common/tokens.js";
import { BENCH_GATEWAY_ENV } from "./agentcast-system.js";
import type { Target } from "./system.js";

export type TokenSystemName = "ws" | "socketio" | "agentcast" | "agentcast-uncoalesced";
export const TOKEN_SYSTEM_LABELS: Record<TokenSystemName, string> = {
  ws: "raw ws, in-process publisher (one message per token)",
  socketio: "Socket.IO + classic redis adapter + emitter (one emit per token)",
  agentcast: "agentcast, coalescing on (OUTPUT_COALESCE_MS 40)",
  "agentcast-uncoalesced": "agentcast, coalescing off (OUTPUT_COALESCE_MS 0)",
};

/** A system that carries token streams: one stream per target, watched by one client each. */
export interface TokenSystem {
  readonly name: TokenSystemName;
  readonly protocol: Protocol;
  readonly urls: string[];
  /** Every process of the system by role (servers, publisher or workers), for CPU accounting; Redis is counted apart. */
  readonly pids: { role: "server" | "source"; pid: number }[];
  /** `host:port` of the Redis node the system uses, if any. */
  readonly redisNode: string | undefined;
  targets(count: number, tag: string): Promise<Target[]>;
  /**
   * Starts one stream per target. ws and Socket.IO: the publisher sends every token and resolves when done.
   * agentcast: one run per task through the real worker, resolving once every run is enqueued.
   */
  stream(targets: Target[], schedules: TokenSchedule[]): Promise<void>;
  stop(): Promise<void>;
}

const host = (url: string) => new URL(url).host;

async function wsTokens(): Promise<TokenSystem> {
  const child = ChildRpc.start("ws-server");
  const port = await child.call<number>("port");
  return {
    name: "ws",
    protocol: "ws",
    urls: [`http://127.0.0.1:${port}`],
    pids: [{ role: "server", pid: child.pid }],
    redisNode: undefined,
    targets: async (count, tag) => Array.from({ length: count }, (_, i) => ({ name: `${tag}-${i}`, publish: `${tag}-${i}` })),
    stream: async (targets, schedules) => {
      await child.call("streamTokens", { rooms: targets.map((t) => t.name), schedules }, 600_000);
    },
    stop: () => child.stop(),
  };
}

/** Two stock Socket.IO servers joined by the classic redis adapter; the stock emitter in its own process. */
async function socketIoTokens(redisUrl: string): Promise<TokenSystem> {
  const servers = ["sio-1", "sio-2"].map((name) => ChildRpc.start("sio-server", { BENCH_NAME: name, REDIS_URL: redisUrl }));
  const publisher = ChildRpc.start("publisher", { PUBLISHER: "emitter", REDIS_URL: redisUrl, REDIS_CLUSTER_NODES: "" });
  const ports = await Promise.all(servers.map((s) => s.call<number>("port")));
  return {
    name: "socketio",
    protocol: "sio",
    urls: ports.map((p) => `http://127.0.0.1:${p}`),
    pids: [...servers.map((c) => ({ role: "server" as const, pid: c.pid })), { role: "source", pid: publisher.pid }],
    redisNode: host(redisUrl),
    targets: async (count, tag) => Array.from({ length: count }, (_, i) => ({ name: `${tag}-${i}`, publish: `${tag}-${i}` })),
    stream: async (targets, schedules) => {
      await publisher.call("streamTokens", { rooms: targets.map((t) => t.name), schedules }, 600_000);
    },
    stop: async () => {
      await Promise.all([publisher, ...servers].map((c) => c.stop()));
    },
  };
}

/**
 * agentcast as deployed: 2 gateway processes and 2 worker processes running the bench's token agent
 * (`dist/children/token-agent.js` through AGENT_MODULE), with coalescing on or off; its own key prefix,
 * so the two agentcast systems share the Redis without sharing a queue.
 */
async function agentcastTokens(redisUrl: string, coalesceMs: number, maxStreams: number): Promise<TokenSystem> {
  const name: TokenSystemName = coalesceMs > 0 ? "agentcast" : "agentcast-uncoalesced";
  const keys = createKeys(coalesceMs > 0 ? "llm-on" : "llm-off");
  const env = { REDIS_KEY_PREFIX: keys.prefix, HISTORY_TTL_SECONDS: "3600" };
  const gateways: GatewayProcess[] = await Promise.all(
    [1, 2].map((i) => startGatewayProcess({ redisUrl, id: `${name}-gw-${i}`, env: { ...BENCH_GATEWAY_ENV, ...env } })),
  );
  const workers: WorkerProcess[] = await Promise.all(
    [1, 2].map((i) =>
      startWorkerProcess({
        redisUrl,
        id: `${name}-wk-${i}`,
        agentModule: childEntry("token-agent"),
        env: {
          ...env,
          OUTPUT_COALESCE_MS: String(coalesceMs),
          WORKER_CONCURRENCY: String(Math.min(1_000, Math.max(16, Math.ceil(maxStreams / 2)))),
          // Node/V8 flags for the workers only (to profile or measure a runtime lever).
          ...(process.env.BENCH_WORKER_NODE_OPTIONS ? { NODE_OPTIONS: process.env.BENCH_WORKER_NODE_OPTIONS } : {}),
        },
      }),
    ),
  );
  const redis = new Redis(redisUrl, { connectionName: `bench:${name}` });
  const tasks = new TaskStore(redis, { keys, historyTtlSeconds: 3_600 });
  const queue = new Queue(runQueueName(0), { connection: redis, prefix: keys.queuePrefix });
  const runs = new Map<string, { runId: string; userId: string }>();
  return {
    name,
    protocol: "agentcast",
    urls: gateways.map((g) => g.url),
    pids: [
      ...gateways.map((g) => ({ role: "server" as const, pid: g.child.pid })),
      ...workers.map((w) => ({ role: "source" as const, pid: w.child.pid })),
    ],
    redisNode: host(redisUrl),
    async targets(count, tag) {
      const out: Target[] = [];
      for (let i = 0; i < count; i++) {
        const userId = `${tag}-u${i}`;
        const { taskId, runId } = await tasks.createTask(userId, "llm bench");
        runs.set(taskId, { runId, userId });
        out.push({ name: taskId, publish: { taskId, runId, userId }, token: await signDevToken(userId, { expiresInSeconds: 6 * 3600 }) });
      }
      return out;
    },
    async stream(targets, schedules) {
      await queue.addBulk(
        targets.map((t, s) => {
          const run = runs.get(t.name);
          if (!run) throw new Error(`no run for task ${t.name}`);
          runs.delete(t.name);
          return {
            name: "run",
            data: { taskId: t.name, runId: run.runId, userId: run.userId, text: JSON.stringify(schedules[s]) },
            opts: runJobOptions(run.runId),
          };
        }),
      );
    },
    async stop() {
      await queue.close();
      redis.disconnect();
      await Promise.all([
        ...workers.map((w) => w.child.stop("SIGTERM", 5_000).catch(() => undefined)),
        ...gateways.map((g) => g.child.stop("SIGTERM", 5_000).catch(() => undefined)),
      ]);
    },
  };
}

export function startTokenSystem(name: TokenSystemName, redisUrl: string, maxStreams: number): Promise<TokenSystem> {
  if (name === "ws") return wsTokens();
  if (name === "socketio") return socketIoTokens(redisUrl);
  return agentcastTokens(redisUrl, name === "agentcast" ? 40 : 0, maxStreams);
}
