// Runs `scripts/start-local-stack.mjs` (what `npm start` runs after building) as a real child process and
// reads what it prints. Shared by start-script.test.ts and start-cluster.test.ts.
import { type ChildProcess, spawn } from "node:child_process";
import { connect } from "node:net";
import { fileURLToPath } from "node:url";

const SCRIPT = fileURLToPath(new URL("../../../scripts/start-local-stack.mjs", import.meta.url));
/** Settings of the script the caller's environment must not leak into a test. */
const SCRIPT_ENV = [
  "REDIS_URL",
  "REDIS_CLUSTER_NODES",
  "REDIS_MODE",
  "REDIS_PROBE_ADDRESS",
  "PORT",
  "JWT_SECRET",
  "AGENT",
  "AGENT_MODULE",
  "LLM_BASE_URL",
  "LLM_MODEL",
];

export interface PrintedStack {
  url: string;
  gatewayUrls: string[];
  /** The `redis` or `redis cluster` line, after the label. */
  redis: string;
  clusterSeeds: string | undefined;
  /** The `agent` line, after the label: which agent the worker runs. */
  agent: string;
  metricsUrls: string[];
  token: string;
}

export interface StartScript {
  readonly child: ChildProcess;
  output(): string;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Waits for the "agentcast is running" block and parses it (fails with the output so far after `timeoutMs`). */
  started(timeoutMs: number): Promise<PrintedStack>;
  /** Ctrl-C: SIGINT, then waits for the exit (fails after `timeoutMs`, killing the script's process group). */
  interrupt(timeoutMs: number): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Kills the script and everything it started (its process group) if it is still running. */
  killAll(): void;
}

/** Starts the script with the caller's environment minus its Redis settings, plus `env` (PORT 0 unless given). */
export function runStartScript(env: Record<string, string>, opts: { cleanEnv?: boolean } = {}): StartScript {
  const inherited = opts.cleanEnv ? {} : Object.fromEntries(Object.entries(process.env).filter(([k]) => !SCRIPT_ENV.includes(k)));
  // Its own process group, so a test that fails midway can still stop every process the script started.
  const child = spawn(process.execPath, [SCRIPT], {
    env: { ...inherited, PORT: "0", ...env },
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  for (const stream of [child.stdout, child.stderr]) stream?.on("data", (d: Buffer) => (out += d.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once("exit", (code, signal) => resolve({ code, signal })),
  );
  const alive = () => child.exitCode === null && child.signalCode === null;
  const killAll = () => {
    if (alive() && child.pid) process.kill(-child.pid, "SIGKILL");
  };
  return {
    child,
    output: () => out,
    exited,
    killAll,
    async started(timeoutMs) {
      // Settles on the output that completes the block, on the script's exit, or on the deadline — no polling.
      await new Promise<void>((resolve, reject) => {
        const done = (err?: Error) => {
          clearTimeout(timer);
          for (const stream of [child.stdout, child.stderr]) stream?.off("data", onData);
          child.off("exit", onExit);
          if (err) reject(err);
          else resolve();
        };
        const onData = () => {
          if (out.includes("Ctrl-C to stop.")) done();
        };
        const onExit = () =>
          done(new Error(`the start script exited (${child.exitCode ?? child.signalCode}) before the stack ran:\n${out}`));
        const timer = setTimeout(() => done(new Error(`the stack was not running after ${timeoutMs} ms:\n${out}`)), timeoutMs);
        for (const stream of [child.stdout, child.stderr]) stream?.on("data", onData);
        child.on("exit", onExit);
        onData();
        if (!alive()) onExit();
      });
      return parsePrinted(out);
    },
    async interrupt(timeoutMs) {
      if (!alive()) return exited;
      child.kill("SIGINT");
      const timer = setTimeout(killAll, timeoutMs);
      const result = await exited;
      clearTimeout(timer);
      if (result.signal === "SIGKILL") throw new Error(`the start script did not stop within ${timeoutMs} ms of SIGINT:\n${out}`);
      return result;
    },
  };
}

function parsePrinted(out: string): PrintedStack {
  const head = /console \+ API\s+(\S+)\s+\(balanced over ([^)]+)\)/.exec(out);
  const redis = /^\s+redis(?: cluster)?\s+(.+)$/m.exec(out);
  const cluster = /^\s+redis cluster\s+(\S+)/m.exec(out);
  const metrics = /^\s+metrics\s+(.+)$/m.exec(out);
  const agent = /^\s+agent\s+(.+)$/m.exec(out);
  const token = /dev token[^\n]*\n\s+(\S+)/.exec(out);
  if (!head?.[1] || !head[2] || !redis?.[1] || !metrics?.[1] || !token?.[1] || !agent?.[1]) throw new Error(`unexpected output:\n${out}`);
  return {
    url: head[1],
    gatewayUrls: head[2].split(",").map((s) => s.trim()),
    redis: redis[1].trim(),
    clusterSeeds: cluster?.[1],
    agent: agent[1].trim(),
    metricsUrls: metrics[1].trim().split(/\s+/),
    token: token[1],
  };
}

/** True when something accepts TCP connections on `address` (host:port). */
export function listening(address: string): Promise<boolean> {
  const at = address.lastIndexOf(":");
  return new Promise((resolve) => {
    const socket = connect({ host: address.slice(0, at), port: Number(address.slice(at + 1)) });
    socket.setTimeout(1_000, () => {
      socket.destroy();
      resolve(false);
    });
    socket.once("error", () => resolve(false));
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
  });
}
