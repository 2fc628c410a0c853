// Shared by the deployment-file tests: the repository's files and what the built apps read.
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { expect } from "vitest";

export const root = new URL("../../../../", import.meta.url);
export const rootPath = fileURLToPath(root);
export const read = (path: string) => readFileSync(new URL(path, root), "utf8");
export const exists = (path: string) => existsSync(new URL(path, root));

/** The Redis section both apps spread into their config schemas. */
export const SHARED_REDIS_CONFIG = "packages/store/src/redis-config.ts";
/** Env keys an app reads: the `/** KEY: …` doc comment on each field of its zod config schema (and of the shared Redis section). */
export const envKeysOf = (configFile: string) =>
  new Set(
    [configFile, SHARED_REDIS_CONFIG].flatMap((file) =>
      [...read(file).matchAll(/\/\*\*\s*(?:\* )?([A-Z_]+):/g)].map((m) => m[1] as string),
    ),
  );
export const GATEWAY_ENV = envKeysOf("apps/gateway/src/config.ts");
export const WORKER_ENV = envKeysOf("apps/worker/src/config.ts");

/** Compose interpolation as `docker compose` would do it with JWT_SECRET set (to COMPOSE_JWT_SECRET) and nothing else. */
export const COMPOSE_JWT_SECRET = "compose-test-secret";
export const interpolate = (env: Record<string, string>): Record<string, string> =>
  Object.fromEntries(
    Object.entries(env).map(([k, v]) => [
      k,
      String(v).replace(/\$\{(\w+)(?::?[-?][^}]*)?\}/g, (whole, name: string) =>
        name === "JWT_SECRET" ? COMPOSE_JWT_SECRET : (/:-([^}]*)\}$/.exec(whole)?.[1] ?? ""),
      ),
    ]),
  );

/** Socket.IO's heartbeat (engine.io defaults; the gateway does not override them — checked below). */
export const PING_INTERVAL_S = 25;
export const PING_TIMEOUT_S = 20;
/** Grace beyond the drain windows: the gateway's 2 s drain tail, re-queueing, closing Redis and servers. */
export const SHUTDOWN_MARGIN_S = 5;

/** The configuration a process would run with, from its own `--print-config` (defaults applied, values validated). */
export function effectiveConfig(entry: string, env: Record<string, string>): Record<string, unknown> {
  const res = spawnSync(process.execPath, [entry, "--print-config"], { env, encoding: "utf8", timeout: 10_000 });
  expect(res.status, `${entry} --print-config with ${JSON.stringify(env)}:\n${res.stderr}`).toBe(0);
  return JSON.parse(res.stdout) as Record<string, unknown>;
}
