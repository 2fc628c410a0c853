import { type ChildProcess, spawn } from "node:child_process";
import { createInterface } from "node:readline";

export interface ChildHandle {
  readonly process: ChildProcess;
  readonly pid: number;
  /** Lines written so far (stdout and stderr), newest last, bounded. */
  readonly output: string[];
  /** Resolves with the exit code (or signal) once the process has exited. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Sends `signal` and waits up to `timeoutMs` for exit, then SIGKILLs. */
  stop(signal?: NodeJS.Signals, timeoutMs?: number): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  kill(): Promise<void>;
}

const MAX_LINES = 2_000;

/** Children still running: killed when this process exits, so an aborted test run leaves no redis-server or app behind. */
const running = new Set<ChildProcess>();
process.once("exit", () => {
  for (const proc of running) proc.kill("SIGKILL");
});

/**
 * Spawns a process and resolves once a line of its output satisfies `ready` (returning a value),
 * or rejects with its output when it exits first or `timeoutMs` passes.
 */
export function spawnUntil<T>(
  command: string,
  args: string[],
  opts: { env?: NodeJS.ProcessEnv; ready: (line: string) => T | undefined; timeoutMs?: number; name: string },
): Promise<{ child: ChildHandle; value: T }> {
  const proc = spawn(command, args, { env: opts.env ?? process.env, stdio: ["ignore", "pipe", "pipe"] });
  const output: string[] = [];
  running.add(proc);
  let spawnError: Error | undefined;
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    proc.once("exit", (code, signal) => {
      running.delete(proc);
      resolve({ code, signal });
    });
    // The command could not be started at all (e.g. not installed): no `exit` follows.
    proc.once("error", (err) => {
      running.delete(proc);
      spawnError = err;
      resolve({ code: null, signal: null });
    });
  });
  const child: ChildHandle = {
    process: proc,
    pid: proc.pid ?? -1,
    output,
    exited,
    async stop(signal = "SIGTERM", timeoutMs = 10_000) {
      if (proc.exitCode !== null || proc.signalCode !== null) return exited;
      proc.kill(signal);
      const timer = setTimeout(() => proc.kill("SIGKILL"), timeoutMs);
      const result = await exited;
      clearTimeout(timer);
      return result;
    },
    async kill() {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill("SIGKILL");
      await exited;
    },
  };
  return new Promise((resolve, reject) => {
    let settled = false;
    const timer = setTimeout(() => {
      if (settled) return;
      settled = true;
      proc.kill("SIGKILL");
      reject(new Error(`${opts.name} not ready after ${opts.timeoutMs ?? 15_000} ms:\n${output.slice(-30).join("\n")}`));
    }, opts.timeoutMs ?? 15_000);
    const onLine = (line: string) => {
      output.push(line);
      if (output.length > MAX_LINES) output.shift();
      if (settled) return;
      const value = opts.ready(line);
      if (value !== undefined) {
        settled = true;
        clearTimeout(timer);
        resolve({ child, value });
      }
    };
    for (const stream of [proc.stdout, proc.stderr]) if (stream) createInterface({ input: stream }).on("line", onLine);
    void exited.then(({ code, signal }) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (spawnError) reject(new Error(`${opts.name}: could not start ${command}: ${spawnError.message}`));
      else reject(new Error(`${opts.name} exited (${code ?? signal}) before ready:\n${output.slice(-30).join("\n")}`));
    });
  });
}

/** Parses a pino JSON line; undefined if it is not one. */
export function jsonLine(line: string): Record<string, unknown> | undefined {
  if (!line.startsWith("{")) return undefined;
  try {
    return JSON.parse(line) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}
