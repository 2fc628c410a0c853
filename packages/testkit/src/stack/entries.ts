import { existsSync, realpathSync } from "node:fs";
import { dirname, isAbsolute, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export type AppName = "gateway" | "worker";

// Paths from strings, not `new URL(…)`: test environments such as jsdom replace the global URL.
const here = dirname(fileURLToPath(import.meta.url));
/** This package's root (this file lives in packages/testkit/{src,dist}/stack). */
const packageRoot = resolve(here, "../..");
/** The monorepo root, when the test kit runs from the agentcast repository. */
const repoRoot = resolve(packageRoot, "../..");

const ENV_KEYS: Record<AppName, string> = { gateway: "AGENTCAST_GATEWAY_ENTRY", worker: "AGENTCAST_WORKER_ENTRY" };

/** `@agentcast/<app>/dist/main.js` installed in a node_modules folder above `from`, if any. */
function installedEntry(app: AppName, from: string): string | undefined {
  for (let dir = from; ; dir = dirname(dir)) {
    const candidate = join(dir, "node_modules", "@agentcast", app, "dist", "main.js");
    if (existsSync(candidate)) return realpathSync(candidate);
    if (dirname(dir) === dir) return undefined;
  }
}

/** Where an entry point was looked for, in order (for the error message when none exists). */
export function entryCandidates(app: AppName): string[] {
  const fromEnv = process.env[ENV_KEYS[app]];
  const installed = installedEntry(app, here) ?? installedEntry(app, process.cwd());
  return [...(fromEnv ? [resolve(fromEnv)] : []), ...(installed ? [installed] : []), resolve(repoRoot, "apps", app, "dist", "main.js")];
}

/**
 * The gateway's or worker's entry point: env AGENTCAST_GATEWAY_ENTRY / AGENTCAST_WORKER_ENTRY, else
 * the installed `@agentcast/gateway` / `@agentcast/worker` package, else `apps/<app>/dist/main.js` of
 * the agentcast repository. Returns the first candidate that exists (or the last one tried).
 */
export function resolveAppEntry(app: AppName): string {
  const candidates = entryCandidates(app);
  return candidates.find((c) => existsSync(c)) ?? (candidates.at(-1) as string);
}

/** An explicit entry, or the resolved default; throws a helpful error when the file is missing. */
export function requireEntry(app: AppName, explicit: string | undefined): string {
  if (explicit !== undefined) {
    const path = isAbsolute(explicit) ? explicit : resolve(explicit);
    if (!existsSync(path)) throw new Error(`${app} entry not found: ${path}`);
    return path;
  }
  const candidates = entryCandidates(app);
  const found = candidates.find((c) => existsSync(c));
  if (found) return found;
  throw new Error(
    `agentcast ${app} not found: pass ${app}Entry, set ${ENV_KEYS[app]}, or install @agentcast/${app} (looked at ${candidates.join(", ")})`,
  );
}
