import { type ChildProcess, fork } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/** Compiled child entry points live in dist/children (the harness forks JavaScript, also under vitest). */
const packageRoot = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
export const childEntry = (name: string) => join(packageRoot, "dist", "children", `${name}.js`);

interface Request {
  id: number;
  cmd: string;
  args: unknown;
}
interface Response {
  id: number;
  ok: boolean;
  result?: unknown;
  error?: string;
}

/** A forked helper process answering `call(cmd, args)` over the IPC channel. */
export class ChildRpc {
  private next = 0;
  private readonly waiting = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  readonly exited: Promise<number | null>;
  readonly stderr: string[] = [];

  private constructor(readonly proc: ChildProcess) {
    proc.on("message", (m: Response) => {
      const w = this.waiting.get(m.id);
      if (!w) return;
      this.waiting.delete(m.id);
      if (m.ok) w.resolve(m.result);
      else w.reject(new Error(m.error ?? "child error"));
    });
    proc.stderr?.on("data", (d: Buffer) => {
      this.stderr.push(d.toString());
      if (this.stderr.length > 50) this.stderr.shift();
    });
    this.exited = new Promise((resolve) =>
      proc.once("exit", (code) => {
        for (const w of this.waiting.values()) w.reject(new Error(`child exited (${code}): ${this.stderr.join("").slice(-2000)}`));
        this.waiting.clear();
        resolve(code);
      }),
    );
  }

  static start(name: string, env: Record<string, string> = {}, execArgv: string[] = []): ChildRpc {
    const proc = fork(childEntry(name), [], {
      env: { ...process.env, ...env },
      execArgv,
      stdio: ["ignore", "inherit", "pipe", "ipc"],
    });
    return new ChildRpc(proc);
  }

  get pid(): number {
    return this.proc.pid ?? -1;
  }

  call<T>(cmd: string, args: unknown = {}, timeoutMs = 120_000): Promise<T> {
    const id = ++this.next;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(id);
        reject(new Error(`${cmd} timed out after ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiting.set(id, {
        resolve: (v) => {
          clearTimeout(timer);
          resolve(v as T);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
      this.proc.send({ id, cmd, args } satisfies Request);
    });
  }

  async stop(): Promise<void> {
    if (this.proc.exitCode !== null || this.proc.signalCode !== null) return;
    this.proc.kill("SIGTERM");
    const timer = setTimeout(() => this.proc.kill("SIGKILL"), 5_000);
    await this.exited;
    clearTimeout(timer);
  }
}

type Handler = (args: never) => unknown;

/** In a child: answer requests with `handlers[cmd](args)`; exits when the parent goes away. */
export function serveRpc(handlers: Record<string, Handler>): void {
  process.on("message", (m: Request) => {
    const handler = handlers[m.cmd];
    const reply = (r: Omit<Response, "id">) => process.send?.({ id: m.id, ...r });
    if (!handler) {
      reply({ ok: false, error: `unknown command ${m.cmd}` });
      return;
    }
    Promise.resolve()
      .then(() => handler(m.args as never))
      .then(
        (result) => reply({ ok: true, result }),
        (err: unknown) => reply({ ok: false, error: err instanceof Error ? (err.stack ?? err.message) : String(err) }),
      );
  });
  process.on("disconnect", () => process.exit(0));
  process.on("SIGTERM", () => process.exit(0));
}

/** RSS and V8 heap of this process. */
export function ownMemory(): { rss: number; heapUsed: number } {
  const m = process.memoryUsage();
  return { rss: m.rss, heapUsed: m.heapUsed };
}
