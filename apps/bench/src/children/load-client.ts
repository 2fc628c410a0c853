import { BenchConn, type ConnShared, type ConnSpec, type Protocol } from "../common/bench-conn.js";
import { nowUs, sleep } from "../common/clock.js";
import { LatencyHistogram, type SparseHistogram } from "../common/histogram.js";
import { ownMemory, serveRpc } from "../common/ipc.js";
import type { TokenCounters } from "../common/tokens.js";

/** A load-client process: many light connections of one protocol, driven over IPC by the harness. */

export interface OpenArgs {
  protocol: Protocol;
  subscribe: boolean;
  conns: ConnSpec[];
  /** Source addresses (127.0.0.x), used round-robin. */
  localAddresses: string[];
  concurrency: number;
  timeoutMs: number;
}

export interface OpenResult {
  opened: number;
  failed: number;
  startUs: number;
  endUs: number;
}

export interface ClientStats {
  conns: number;
  ready: number;
  received: number;
  unique: number;
  dups: number;
  gaps: number;
  errors: number;
  lastRecvUs: number;
  hist: SparseHistogram;
  maxUs: number;
  /** Failover: connections that reconnected / are caught up / gave up; latest caught-up time. */
  reconnected: number;
  caughtUp: number;
  gaveUp: number;
  lastCaughtUpUs: number;
  /** Failover: when each reconnected connection was caught up (µs, this machine's clock). */
  caughtUpUs: number[];
  /** Failover: reconnect attempts that failed and were tried again. */
  retries: number;
  rss: number;
}

const hist = new LatencyHistogram();
const counters = { received: 0, unique: 0, dups: 0, gaps: 0, lastRecvUs: 0, errors: 0 };
let shared: ConnShared | undefined;
const conns: BenchConn[] = [];
let failover: { url: string; jitterMs: number; timeoutMs: number } | undefined;
let localAddresses: string[] = ["127.0.0.1"];
const failedOver = new Set<BenchConn>();
let gaveUp = 0;
let retries = 0;

async function reconnect(conn: BenchConn): Promise<void> {
  if (!failover || !shared) return;
  const { url, jitterMs, timeoutMs } = failover;
  await sleep(Math.random() * jitterMs);
  for (let attempt = 0; attempt < 5; attempt++) {
    const next = new BenchConn({ ...conn.spec, url }, shared, localAddresses[conns.indexOf(conn) % localAddresses.length] ?? "127.0.0.1");
    next.lastKey = conn.lastKey;
    if (await next.open(timeoutMs, onClose)) {
      conns[conns.indexOf(conn)] = next;
      failedOver.add(next);
      return;
    }
    retries++;
    await sleep(200 * 2 ** attempt);
  }
  gaveUp++;
}

function onClose(conn: BenchConn): void {
  if (failover && !failedOver.has(conn)) void reconnect(conn);
}

serveRpc({
  async open(args: OpenArgs): Promise<OpenResult> {
    shared ??= { protocol: args.protocol, subscribe: args.subscribe, hist, counters };
    localAddresses = args.localAddresses;
    let next = 0;
    let opened = 0;
    let failed = 0;
    const startUs = nowUs();
    const worker = async () => {
      while (next < args.conns.length) {
        const i = next++;
        const conn = new BenchConn(
          args.conns[i] as ConnSpec,
          shared as ConnShared,
          localAddresses[i % localAddresses.length] ?? "127.0.0.1",
        );
        if (await conn.open(args.timeoutMs, onClose)) {
          conns.push(conn);
          opened++;
        } else failed++;
      }
    };
    await Promise.all(Array.from({ length: Math.min(args.concurrency, args.conns.length) }, worker));
    return { opened, failed, startUs, endUs: nowUs() };
  },

  /** Zero the counters; `keepOrder` keeps each connection's last seq (agentcast), else n restarts at 1. */
  reset(args: { keepOrder: boolean }) {
    hist.reset();
    Object.assign(counters, { received: 0, unique: 0, dups: 0, gaps: 0, lastRecvUs: 0, errors: 0 });
    if (!args.keepOrder) for (const c of conns) c.lastKey = 0;
    return true;
  },

  setFailover(args: { url: string; jitterMs: number; timeoutMs: number }) {
    failover = args;
    return true;
  },

  /** Per connection: target and highest key seen (for the exact lost/duplicate check). */
  positions(): [string, number][] {
    return conns.map((c) => [c.spec.target, c.lastKey]);
  },

  /**
   * The `llm` scenario: from now on frames are token streams; each connection to a target in `starts`
   * expects token 0 due at that target's start (epoch ms). Zeroes the token counters and the histogram.
   */
  arm(args: { rate: number; starts: [string, number][] }) {
    const starts = new Map(args.starts);
    if (!shared) return 0;
    shared.tokens = { rate: args.rate, counters: { tokens: 0, lostTokens: 0, dupTokens: 0, frames: 0, lastRecvUs: 0 } };
    hist.reset();
    let armed = 0;
    for (const c of conns) {
      const startMs = starts.get(c.spec.target);
      c.cursor = startMs === undefined ? undefined : { startMs, next: 0, seq: 0 };
      if (c.cursor) armed++;
    }
    return armed;
  },

  /** The `llm` scenario: tokens counted so far. */
  tokenStats(): { counters: TokenCounters; hist: SparseHistogram; maxUs: number } {
    const counters = shared?.tokens?.counters ?? { tokens: 0, lostTokens: 0, dupTokens: 0, frames: 0, lastRecvUs: 0 };
    return { counters, hist: hist.toSparse(), maxUs: hist.maxUs };
  },

  stats(): ClientStats {
    let ready = 0;
    let caughtUp = 0;
    let lastCaughtUpUs = 0;
    const caughtUpUs: number[] = [];
    for (const c of conns) {
      if (c.ready) ready++;
      if (failedOver.has(c) && c.caughtUpAtUs > 0) {
        caughtUp++;
        caughtUpUs.push(c.caughtUpAtUs);
        lastCaughtUpUs = Math.max(lastCaughtUpUs, c.caughtUpAtUs);
      }
    }
    return {
      conns: conns.length,
      ready,
      ...counters,
      hist: hist.toSparse(),
      maxUs: hist.maxUs,
      reconnected: failedOver.size,
      caughtUp,
      gaveUp,
      lastCaughtUpUs,
      caughtUpUs,
      retries,
      rss: ownMemory().rss,
    };
  },

  async closeAll() {
    failover = undefined;
    for (const c of conns) c.ws?.terminate();
    conns.length = 0;
    failedOver.clear();
    return true;
  },
});
