import type { ClientStats, OpenArgs, OpenResult } from "../children/load-client.js";
import type { ConnSpec, Protocol } from "../common/bench-conn.js";
import { LatencyHistogram } from "../common/histogram.js";
import { ChildRpc } from "../common/ipc.js";
import type { TokenCounters } from "../common/tokens.js";
import type { Target } from "./system.js";

export interface PoolStats extends Omit<ClientStats, "hist" | "maxUs"> {
  hist: LatencyHistogram;
}

export interface OpenSummary {
  opened: number;
  failed: number;
  /** Connections per second from the first attempt to the last ready connection. */
  perSec: number;
  seconds: number;
}

/**
 * Load-client processes. Process j uses its own source addresses 127.0.0.(10 + j*4 … 13 + j*4), so
 * no single address runs out of ephemeral ports and no process exceeds its open-file cap.
 */
export class ClientPool {
  private constructor(private readonly clients: ChildRpc[]) {}

  static start(processes: number): ClientPool {
    return new ClientPool(Array.from({ length: processes }, () => ChildRpc.start("load-client", {}, ["--max-old-space-size=1024"])));
  }

  get pids(): number[] {
    return this.clients.map((c) => c.pid);
  }

  /** Connection i goes to urls[i % urls.length] with targets[i % targets.length]. */
  async open(
    protocol: Protocol,
    opts: { urls: string[]; targets: Target[]; count?: number; subscribe: boolean; concurrency?: number; timeoutMs?: number },
  ): Promise<OpenSummary> {
    const count = opts.count ?? opts.targets.length;
    const perClient: ConnSpec[][] = this.clients.map(() => []);
    for (let i = 0; i < count; i++) {
      const t = opts.targets[i % opts.targets.length] as Target;
      const spec: ConnSpec = { url: opts.urls[i % opts.urls.length] as string, target: t.name, ...(t.token ? { token: t.token } : {}) };
      perClient[i % this.clients.length]?.push(spec);
    }
    const results = await Promise.all(
      this.clients.map((c, j) =>
        c.call<OpenResult>(
          "open",
          {
            protocol,
            subscribe: opts.subscribe,
            conns: perClient[j] ?? [],
            localAddresses: [0, 1, 2, 3].map((k) => `127.0.0.${10 + j * 4 + k}`),
            concurrency: opts.concurrency ?? 100,
            timeoutMs: opts.timeoutMs ?? 30_000,
          } satisfies OpenArgs,
          300_000,
        ),
      ),
    );
    const start = Math.min(...results.map((r) => r.startUs));
    const end = Math.max(...results.map((r) => r.endUs));
    const opened = results.reduce((s, r) => s + r.opened, 0);
    const seconds = (end - start) / 1e6;
    return { opened, failed: results.reduce((s, r) => s + r.failed, 0), seconds, perSec: opened / Math.max(seconds, 1e-3) };
  }

  async reset(keepOrder: boolean): Promise<void> {
    await Promise.all(this.clients.map((c) => c.call("reset", { keepOrder })));
  }

  async setFailover(url: string, jitterMs: number): Promise<void> {
    await Promise.all(this.clients.map((c) => c.call("setFailover", { url, jitterMs, timeoutMs: 30_000 })));
  }

  async positions(): Promise<[string, number][]> {
    return (await Promise.all(this.clients.map((c) => c.call<[string, number][]>("positions")))).flat();
  }

  async stats(): Promise<PoolStats> {
    const all = await Promise.all(this.clients.map((c) => c.call<ClientStats>("stats")));
    const hist = new LatencyHistogram();
    const sum = (f: (s: ClientStats) => number) => all.reduce((a, s) => a + f(s), 0);
    const max = (f: (s: ClientStats) => number) => all.reduce((a, s) => Math.max(a, f(s)), 0);
    for (const s of all) hist.merge(s.hist, s.maxUs);
    return {
      conns: sum((s) => s.conns),
      ready: sum((s) => s.ready),
      received: sum((s) => s.received),
      unique: sum((s) => s.unique),
      dups: sum((s) => s.dups),
      gaps: sum((s) => s.gaps),
      errors: sum((s) => s.errors),
      lastRecvUs: max((s) => s.lastRecvUs),
      reconnected: sum((s) => s.reconnected),
      caughtUp: sum((s) => s.caughtUp),
      gaveUp: sum((s) => s.gaveUp),
      lastCaughtUpUs: max((s) => s.lastCaughtUpUs),
      caughtUpUs: all.flatMap((s) => s.caughtUpUs),
      retries: sum((s) => s.retries),
      rss: sum((s) => s.rss),
      hist,
    };
  }

  /** The `llm` scenario: connections to these targets count token streams starting at the given epoch ms; returns how many were armed. */
  async arm(rate: number, starts: [string, number][]): Promise<number> {
    const armed = await Promise.all(this.clients.map((c) => c.call<number>("arm", { rate, starts })));
    return armed.reduce((a, b) => a + b, 0);
  }

  /** The `llm` scenario: tokens counted by every client process, merged. */
  async tokenStats(): Promise<TokenCounters & { hist: LatencyHistogram; maxUs: number }> {
    const all = await Promise.all(
      this.clients.map((c) => c.call<{ counters: TokenCounters; hist: ClientStats["hist"]; maxUs: number }>("tokenStats")),
    );
    const hist = new LatencyHistogram();
    const out = { tokens: 0, lostTokens: 0, dupTokens: 0, frames: 0, lastRecvUs: 0, hist, maxUs: 0 };
    for (const a of all) {
      hist.merge(a.hist, a.maxUs);
      out.tokens += a.counters.tokens;
      out.lostTokens += a.counters.lostTokens;
      out.dupTokens += a.counters.dupTokens;
      out.frames += a.counters.frames;
      out.lastRecvUs = Math.max(out.lastRecvUs, a.counters.lastRecvUs);
      out.maxUs = Math.max(out.maxUs, a.maxUs);
    }
    return out;
  }

  async closeAll(): Promise<void> {
    await Promise.all(this.clients.map((c) => c.call("closeAll")));
  }

  async stop(): Promise<void> {
    await Promise.all(this.clients.map((c) => c.stop()));
  }
}
