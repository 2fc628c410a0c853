import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type ChildHandle, spawnUntil } from "./child.js";
import { freePort } from "./free-port.js";

export interface RedisServerHandle {
  readonly port: number;
  readonly url: string;
  /** Stops the server: SIGTERM (flushes the AOF, data survives a restart) unless `graceful` is false (SIGKILL). */
  stop(graceful?: boolean): Promise<void>;
  /** Starts it again on the same port and data directory (after stop). */
  restart(): Promise<void>;
  /** Freezes the process (SIGSTOP): it holds its connections and answers nothing, as a hung node would. */
  pause(): void;
  /** Lets a paused process run again (SIGCONT). */
  resume(): void;
  [Symbol.asyncDispose](): Promise<void>;
}

/**
 * Starts a throwaway `redis-server` on a free loopback port, configured like production
 * (noeviction, AOF on) with its data in a temp directory removed on dispose.
 */
export async function startRedisServer(
  opts: {
    port?: number;
    bin?: string;
    /** More `redis-server` arguments (e.g. `--cluster-enabled yes`). */
    args?: readonly string[];
  } = {},
): Promise<RedisServerHandle> {
  const port = opts.port ?? (await freePort());
  const bin = opts.bin ?? process.env.REDIS_SERVER_BIN ?? "redis-server";
  const dir = mkdtempSync(join(tmpdir(), "agentcast-redis-"));
  let child: ChildHandle | undefined;
  const launch = async () => {
    const args = ["--port", String(port), "--bind", "127.0.0.1", "--dir", dir, "--save", "", "--appendonly", "yes"];
    args.push("--appendfsync", "everysec", "--maxmemory-policy", "noeviction", "--maxclients", "10000", ...(opts.args ?? []));
    ({ child } = await spawnUntil(bin, args, {
      name: `redis-server :${port}`,
      ready: (line) => (/Ready to accept connections/.test(line) ? true : undefined),
    }));
  };
  await launch();
  const handle: RedisServerHandle = {
    port,
    url: `redis://127.0.0.1:${port}`,
    async stop(graceful = true) {
      if (!child) return;
      await child.stop(graceful ? "SIGTERM" : "SIGKILL");
      child = undefined;
    },
    async restart() {
      if (child) await handle.stop();
      await launch();
    },
    pause() {
      child?.process.kill("SIGSTOP");
    },
    resume() {
      child?.process.kill("SIGCONT");
    },
    async [Symbol.asyncDispose]() {
      await handle.stop(false);
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return handle;
}
