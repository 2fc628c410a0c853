import { z } from "zod";

/** Where a process finds Redis: one node, or a Redis Cluster (seed nodes). */
export type RedisTarget =
  | { readonly mode: "single"; readonly url: string }
  | {
      readonly mode: "cluster";
      readonly nodes: readonly { readonly host: string; readonly port: number }[];
      /** TLS to every node (the seeds were given as `rediss://`). */
      readonly tls: boolean;
      readonly username: string | undefined;
      readonly password: string | undefined;
    };

const DEFAULT_REDIS_URL = "redis://127.0.0.1:6379";
const optional = z
  .string()
  .optional()
  .transform((v) => (v === undefined || v.trim() === "" ? undefined : v.trim()));

/**
 * The Redis section every agentcast process shares (gateway, worker): where Redis is, how its keys and
 * queues are named and how long a task's data lives. Spread it into an app's config schema and resolve
 * it with `redisTargetOf`, so two apps cannot read these settings differently. Each field: env key,
 * default, meaning.
 */
export const redisConfigShape = {
  /** REDIS_URL: one Redis node, `redis://` or `rediss://` (default redis://127.0.0.1:6379 unless REDIS_CLUSTER_NODES is set). */
  REDIS_URL: optional.refine((v) => v === undefined || /^rediss?:\/\//.test(v), "must be a redis:// or rediss:// URL"),
  /** REDIS_CLUSTER_NODES: seed nodes of a Redis Cluster, `host:port,host:port,…` (or `rediss://host:port,…` for TLS). */
  REDIS_CLUSTER_NODES: optional,
  /** REDIS_USERNAME: ACL user for the cluster's nodes (with REDIS_URL, put it in the URL). */
  REDIS_USERNAME: optional,
  /** REDIS_PASSWORD: password for the cluster's nodes (with REDIS_URL, put it in the URL). */
  REDIS_PASSWORD: optional,
  /** REDIS_KEY_PREFIX: prefix of every Redis key and of the BullMQ queues (the same on every gateway and worker). */
  REDIS_KEY_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9_.-]{1,32}$/, "must be 1-32 of A-Z a-z 0-9 _ . -")
    .default("ac"),
  /** HISTORY_TTL_SECONDS: idle lifetime of a task and its history, refreshed at each run's first and last event, at a question, and every 32 events between. */
  HISTORY_TTL_SECONDS: z.coerce.number().int().positive().default(86_400),
  /** RUN_QUEUE_SHARDS: BullMQ queues runs are spread over (by task); each queue lives on one cluster slot. The same on every gateway and worker. */
  RUN_QUEUE_SHARDS: z.coerce.number().int().min(1).max(64).default(1),
  /**
   * REDIS_WAIT_REPLICAS: replicas that must acknowledge an event (WAIT) before it is published live, so a
   * failover cannot take back an event a client saw; 0 = publish at once. Worker only; see docs/reliability.md.
   */
  REDIS_WAIT_REPLICAS: z.coerce.number().int().min(0).max(16).default(0),
  /** REDIS_WAIT_TIMEOUT_MS: how long an event waits for REDIS_WAIT_REPLICAS; then it is published anyway (counted as unreplicated_event). */
  REDIS_WAIT_TIMEOUT_MS: z.coerce.number().int().min(1).max(10_000).default(100),
};

type RedisConfigFields = { [K in keyof typeof redisConfigShape]: z.infer<(typeof redisConfigShape)[K]> };

/** Adds the section's cross-field rule to an app's `superRefine`: one of REDIS_URL and REDIS_CLUSTER_NODES, valid seeds. */
export function checkRedisConfig(c: Pick<RedisConfigFields, "REDIS_URL" | "REDIS_CLUSTER_NODES">, ctx: z.RefinementCtx): void {
  if (c.REDIS_URL !== undefined && c.REDIS_CLUSTER_NODES !== undefined) {
    ctx.addIssue({
      code: "custom",
      path: ["REDIS_CLUSTER_NODES"],
      message: "set REDIS_URL (one Redis node) or REDIS_CLUSTER_NODES (a Redis Cluster), not both",
    });
    return;
  }
  if (c.REDIS_CLUSTER_NODES !== undefined) {
    const problem = seedProblem(c.REDIS_CLUSTER_NODES);
    if (problem) ctx.addIssue({ code: "custom", path: ["REDIS_CLUSTER_NODES"], message: problem });
  }
}

/** The Redis a process connects to, from its parsed config. */
export function redisTargetOf(
  c: Pick<RedisConfigFields, "REDIS_URL" | "REDIS_CLUSTER_NODES" | "REDIS_USERNAME" | "REDIS_PASSWORD">,
): RedisTarget {
  if (c.REDIS_CLUSTER_NODES === undefined) return { mode: "single", url: c.REDIS_URL ?? DEFAULT_REDIS_URL };
  const seeds = parseSeeds(c.REDIS_CLUSTER_NODES);
  return { mode: "cluster", nodes: seeds.nodes, tls: seeds.tls, username: c.REDIS_USERNAME, password: c.REDIS_PASSWORD };
}

/**
 * The Redis section as `--print-config` and the boot log show it: `REDIS_URL` is the node in use
 * (its default when neither is set; absent in cluster mode), passwords are `<set>`, and `redis` says
 * in one line where the process connects.
 */
export function redactRedisConfig(c: Pick<RedisConfigFields, "REDIS_URL" | "REDIS_CLUSTER_NODES" | "REDIS_USERNAME" | "REDIS_PASSWORD">): {
  REDIS_URL: string | undefined;
  REDIS_PASSWORD: "<set>" | undefined;
  redis: string;
} {
  const target = redisTargetOf(c);
  return {
    REDIS_URL: target.mode === "single" ? describeRedisTarget(target) : undefined,
    REDIS_PASSWORD: c.REDIS_PASSWORD ? "<set>" : undefined,
    redis: describeRedisTarget(target),
  };
}

/** For `--print-config` and logs: where Redis is, with no password. */
export function describeRedisTarget(t: RedisTarget): string {
  if (t.mode === "single") return t.url.replace(/\/\/([^@/]*)@/, "//<credentials>@");
  return `cluster ${t.tls ? "rediss" : "redis"}://${t.nodes.map((n) => `${n.host}:${n.port}`).join(",")}`;
}

function parseSeeds(text: string): { nodes: { host: string; port: number }[]; tls: boolean } {
  const parts = text
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
  const tls = parts.some((p) => p.startsWith("rediss://"));
  const nodes = parts.map((p) => {
    const bare = p.replace(/^rediss?:\/\//, "");
    const at = bare.lastIndexOf(":");
    return { host: bare.slice(0, at).replace(/^\[(.*)\]$/, "$1"), port: Number(bare.slice(at + 1)) };
  });
  return { nodes, tls };
}

function seedProblem(text: string): string | undefined {
  const parts = text
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
  if (parts.length === 0) return "list at least one seed node, host:port";
  const schemes = new Set(parts.map((p) => /^(rediss?):\/\//.exec(p)?.[1] ?? "redis"));
  if (schemes.size > 1) return "use one scheme for every seed (all rediss:// for TLS, or none)";
  for (const p of parts) {
    const m = /^(?:rediss?:\/\/)?([^\s:/@]+|\[[0-9a-fA-F:]+\]):(\d{1,5})$/.exec(p);
    if (!m || Number(m[2]) < 1 || Number(m[2]) > 65_535) return `"${p}" is not host:port`;
  }
  return undefined;
}
