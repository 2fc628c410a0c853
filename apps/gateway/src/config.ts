import { createPublicKey } from "node:crypto";
import { hostname } from "node:os";
import { optionalEnvString, parseEnv, portSchema } from "@agentcast/runtime";
import { checkRedisConfig, redactRedisConfig, redisConfigShape } from "@agentcast/store";
import { z } from "zod";

const port = (fallback: number) => portSchema(z, fallback);
const MAX_TRUSTED_PROXY_HOPS = 10;
const TRUST_PROXY_PROBLEM = `must be true (1 trusted proxy), false (none) or a number of trusted proxy hops 0-${MAX_TRUSTED_PROXY_HOPS}`;
const optionalString = optionalEnvString(z);

/** Gateway configuration from the environment. Each field: env key, default, meaning. */
export const gatewayConfigSchema = z
  .object({
    /** PORT: HTTP + Socket.IO port (0 = any free port). */
    PORT: port(3000),
    /** HOST: interface to bind. */
    HOST: z.string().min(1).default("0.0.0.0"),
    /** LISTEN_BACKLOG: TCP connections the kernel may queue for PORT before accept (capped by net.core.somaxconn). */
    LISTEN_BACKLOG: z.coerce.number().int().min(1).max(65_535).default(4096),
    // REDIS_URL | REDIS_CLUSTER_NODES, REDIS_USERNAME, REDIS_PASSWORD, REDIS_KEY_PREFIX, HISTORY_TTL_SECONDS,
    // RUN_QUEUE_SHARDS: one section, shared with the worker (packages/store/src/redis-config.ts).
    ...redisConfigShape,
    /** JWT_SECRET: HS256 secret. */
    JWT_SECRET: optionalString,
    /** JWT_PUBLIC_KEY: PEM (SPKI) public key for RS256 or ES256. */
    JWT_PUBLIC_KEY: optionalString,
    /** JWT_JWKS_URL: JWKS endpoint of your identity provider (RS256/ES256 keys by `kid`, fetched and cached). */
    JWT_JWKS_URL: z
      .url({ protocol: /^https?$/ })
      .optional()
      .or(z.literal("").transform(() => undefined)),
    /** JWT_JWKS_CACHE_SECONDS: how long fetched JWKS keys are trusted before they are fetched again. */
    JWT_JWKS_CACHE_SECONDS: z.coerce.number().int().min(1).max(86_400).default(600),
    /** JWT_ISSUER: required `iss` claim, if set. */
    JWT_ISSUER: optionalString,
    /** JWT_AUDIENCE: required `aud` claim, if set. */
    JWT_AUDIENCE: optionalString,
    /** GATEWAY_ID: this process's id in logs, metrics and connection_established. */
    GATEWAY_ID: z.string().min(1).max(128).default(`gw-${hostname()}-${process.pid}`),
    /** METRICS_PORT: Prometheus /metrics port (0 = any free port). */
    METRICS_PORT: port(9464),
    /** CORS_ORIGINS: comma-separated allowed origins for browsers ("*" = any); empty = no CORS. */
    CORS_ORIGINS: z
      .string()
      .default("")
      .transform((v) =>
        v
          .split(",")
          .map((s) => s.trim())
          .filter(Boolean),
      ),
    /** DRAIN_WINDOW_MS: on SIGTERM, client disconnects are spread over this window (keep it below the pod's grace period). */
    DRAIN_WINDOW_MS: z.coerce.number().int().min(0).max(300_000).default(10_000),
    /** USER_RESPONSE_TIMEOUT_MS: an accepted user_response no run consumed within this is counted as ack_timeout. */
    USER_RESPONSE_TIMEOUT_MS: z.coerce.number().int().min(100).max(3_600_000).default(30_000),
    /** WEB_ROOT: directory of a built web console to serve on PORT (e.g. apps/web/dist); unset = none. */
    WEB_ROOT: optionalString,
    /** JWT_CLOCK_SKEW_SECONDS: allowance for clock differences when checking exp/nbf/iat. */
    JWT_CLOCK_SKEW_SECONDS: z.coerce.number().int().min(0).max(600).default(0),
    /** RATE_LIMIT_COMMANDS_PER_SEC: commands per socket per second, sustained (token bucket). */
    RATE_LIMIT_COMMANDS_PER_SEC: z.coerce.number().positive().default(20),
    /** RATE_LIMIT_COMMANDS_BURST: commands per socket at once (bucket size). */
    RATE_LIMIT_COMMANDS_BURST: z.coerce.number().int().min(1).default(40),
    /** RATE_LIMIT_USER_COMMANDS_PER_MIN: commands per user in any 60 s (sliding window) across all gateways (Redis): socket commands and HTTP POSTs (reads are not counted). */
    RATE_LIMIT_USER_COMMANDS_PER_MIN: z.coerce.number().int().min(1).default(600),
    /** MAX_CONNECTIONS_PER_USER: concurrent connections per user across all gateways. */
    MAX_CONNECTIONS_PER_USER: z.coerce.number().int().min(1).default(20),
    /** CONNECTION_LEASE_MS: a connection's place under MAX_CONNECTIONS_PER_USER lapses this long after its gateway last renewed it (renewed every third of it), e.g. when the gateway died. */
    CONNECTION_LEASE_MS: z.coerce.number().int().min(1_000).max(3_600_000).default(60_000),
    /** MAX_SUBSCRIPTIONS_PER_SOCKET: tasks one socket may follow at once. */
    MAX_SUBSCRIPTIONS_PER_SOCKET: z.coerce.number().int().min(1).default(100),
    /** CONNECT_RATE_PER_IP_PER_SEC: new connections per client IP per second on this gateway. */
    CONNECT_RATE_PER_IP_PER_SEC: z.coerce.number().positive().default(10),
    /** CONNECT_BURST_PER_IP: new connections per client IP at once. */
    CONNECT_BURST_PER_IP: z.coerce.number().int().min(1).default(50),
    /** TRUST_PROXY: trusted proxy hops in front of the gateway: the client IP is the X-Forwarded-For entry the outermost one saw (`true` = 1, `false` = 0). */
    TRUST_PROXY: z
      .string()
      .trim()
      .default("false")
      .refine((v) => /^(true|false|\d{1,2})$/.test(v), TRUST_PROXY_PROBLEM)
      .transform((v) => (v === "true" ? 1 : v === "false" ? 0 : Number(v)))
      .refine((hops) => hops <= MAX_TRUSTED_PROXY_HOPS, TRUST_PROXY_PROBLEM),
    /** MAX_OUTBOUND_BUFFER_BYTES: a socket or HTTP event stream with more unsent bytes is closed (it resumes from history). */
    MAX_OUTBOUND_BUFFER_BYTES: z.coerce.number().int().min(1_024).default(1_048_576),
    /** SSE_HEARTBEAT_MS: an HTTP event stream gets a comment line this often, so proxies and clients do not time it out. */
    SSE_HEARTBEAT_MS: z.coerce.number().int().min(100).max(300_000).default(15_000),
    /** MAX_READ_TOKENS_PER_TASK: live read tokens one task may have at once (revoke one to mint another). */
    MAX_READ_TOKENS_PER_TASK: z.coerce.number().int().min(1).max(1_000).default(20),
    /** REDIS_PING_INTERVAL_MS: how often each Redis connection is PINGed to find one that silently stopped answering. */
    REDIS_PING_INTERVAL_MS: z.coerce.number().int().min(100).max(600_000).default(5_000),
    /** REDIS_PING_TIMEOUT_MS: a connection whose PING is unanswered this long is torn down and reconnected. */
    REDIS_PING_TIMEOUT_MS: z.coerce.number().int().min(100).max(600_000).default(10_000),
    /** LOG_LEVEL: pino level. */
    LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
  })
  .superRefine((c, ctx) => {
    checkRedisConfig(c, ctx);
    if (!c.JWT_SECRET && !c.JWT_PUBLIC_KEY && !c.JWT_JWKS_URL) {
      ctx.addIssue({
        code: "custom",
        path: ["JWT_SECRET"],
        message: "set JWT_SECRET (HS256), JWT_PUBLIC_KEY (RS256/ES256) or JWT_JWKS_URL",
      });
    }
    if (c.JWT_PUBLIC_KEY) {
      const problem = publicKeyProblem(c.JWT_PUBLIC_KEY);
      if (problem) ctx.addIssue({ code: "custom", path: ["JWT_PUBLIC_KEY"], message: problem });
    }
  });

function publicKeyProblem(pem: string): string | undefined {
  try {
    const type = createPublicKey(pem).asymmetricKeyType;
    return type === "rsa" || type === "ec" ? undefined : `must be an RSA or EC public key, got ${type}`;
  } catch {
    return "must be a PEM (SPKI) public key";
  }
}

export type GatewayConfig = Readonly<z.infer<typeof gatewayConfigSchema>>;

/** Parses the environment; throws ConfigError naming every bad variable. */
export function loadGatewayConfig(env: NodeJS.ProcessEnv = process.env): GatewayConfig {
  return parseEnv(gatewayConfigSchema, env, "gateway");
}

/** The config with secrets redacted, for --print-config and the boot log. */
export function redactConfig(config: GatewayConfig): Record<string, unknown> {
  return {
    ...config,
    ...redactRedisConfig(config),
    JWT_SECRET: config.JWT_SECRET ? "<set>" : undefined,
    JWT_PUBLIC_KEY: config.JWT_PUBLIC_KEY ? "<set>" : undefined,
  };
}
