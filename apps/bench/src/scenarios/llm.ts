import type { BenchOptions } from "../cli/options.js";
import { sleep } from "../common/clock.js";
import { cpuSecondsOf } from "../common/proc-stats.js";
import { readNodeCounters } from "../common/redis-nodes.js";
import { TOKEN_CHARS, type TokenSchedule } from "../common/tokens.js";
import { ClientPool } from "../systems/client-pool.js";
import { startTokenSystem, type TokenSystem, type TokenSystemName } from "../systems/token-systems.js";

export interface LlmStep {
  system: TokenSystemName;
  streams: number;
  expectedTokens: number;
  /** Tokens received in order, once each. */
  tokens: number;
  /** Characters never received (4 per token). */
  lostChars: number;
  duplicateTokens: number;
  /** Frames (messages, events) a client received per stream per second. */
  framesPerStreamPerSec: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  /** CPU of every process of the system plus its Redis (not the clients), per token delivered, in µs. */
  cpuUsPerToken: number;
  /** The same split by role, µs per token: servers, token source (publisher or workers), Redis, clients. */
  cpuSplitUsPerToken: CpuSplit;
  /** The same CPU as % of one core over the step. */
  cpuPercent: number;
  pass: boolean;
}

export interface LlmResult {
  rate: number;
  tokensPerStream: number;
  p99LimitMs: number;
  steps: LlmStep[];
  /** Per system: most concurrent streams with 0 lost characters, 0 duplicates and p99 ≤ the limit. */
  best: Record<string, number>;
}

interface Running {
  system: TokenSystem;
  pool: ClientPool;
  saturated: boolean;
}

/** `llm` systems from --systems: agentcast brings both its coalescing settings. */
export function llmSystems(systems: readonly string[]): TokenSystemName[] {
  const out: TokenSystemName[] = [];
  if (systems.includes("ws")) out.push("ws");
  if (systems.includes("socketio")) out.push("socketio");
  if (systems.includes("agentcast")) out.push("agentcast", "agentcast-uncoalesced");
  return out;
}

/** CPU seconds so far of the system's servers, its token source (publisher or workers), its Redis, and the clients. */
async function cpuSeconds(system: TokenSystem, pool: ClientPool): Promise<CpuSplit> {
  const sum = async (pids: number[]) => (await Promise.all(pids.map((p) => cpuSecondsOf(p).catch(() => 0)))).reduce((a, b) => a + b, 0);
  return {
    server: await sum(system.pids.filter((p) => p.role === "server").map((p) => p.pid)),
    source: await sum(system.pids.filter((p) => p.role === "source").map((p) => p.pid)),
    redis: system.redisNode ? ((await readNodeCounters([system.redisNode]))[0]?.cpuSeconds ?? 0) : 0,
    clients: await sum(pool.pids),
  };
}

export interface CpuSplit {
  server: number;
  source: number;
  redis: number;
  clients: number;
}

/**
 * LLM token streams: N concurrent streams of `tokens` 4-byte tokens at `rate` tokens/s, one client per
 * stream over the system's servers. For each N the systems take turns; a system that failed badly (p99
 * over 2 s or more than half lost) is not driven harder.
 */
export async function runLlm(o: BenchOptions, redisUrl: string, log: (s: string) => void): Promise<LlmResult> {
  const { streams, tokens, rate, p99LimitMs } = o.llm;
  const running: Running[] = [];
  const steps: LlmStep[] = [];
  const maxStreams = Math.max(...streams);
  try {
    for (const name of llmSystems(o.systems)) {
      const system = await startTokenSystem(name, redisUrl, maxStreams);
      running.push({ system, pool: ClientPool.start(2), saturated: false });
      log(`llm: ${name} up`);
    }
    for (const n of streams) {
      for (const r of running) {
        if (r.saturated) continue;
        const step = await runLlmStep(r, n, o.llm, log);
        steps.push(step);
        log(
          `llm: ${step.system} ×${n} streams → ${step.tokens}/${step.expectedTokens} tokens, lost ${step.lostChars} chars, p99 ${step.p99Ms.toFixed(1)} ms, ${step.cpuUsPerToken.toFixed(1)} µs CPU/token (servers ${step.cpuSplitUsPerToken.server.toFixed(1)}, source ${step.cpuSplitUsPerToken.source.toFixed(1)}, redis ${step.cpuSplitUsPerToken.redis.toFixed(1)}, clients ${step.cpuSplitUsPerToken.clients.toFixed(1)})${step.pass ? "" : " (fail)"}`,
        );
        if (step.p99Ms > 2_000 || step.tokens < step.expectedTokens / 2) r.saturated = true;
      }
    }
  } finally {
    for (const r of running) {
      await r.pool.stop().catch(() => {});
      await r.system.stop().catch(() => {});
    }
  }
  const best: Record<string, number> = {};
  for (const r of running)
    best[r.system.name] = Math.max(0, ...steps.filter((s) => s.system === r.system.name && s.pass).map((s) => s.streams));
  return { rate, tokensPerStream: tokens, p99LimitMs, steps, best };
}

async function runLlmStep(r: Running, n: number, cfg: BenchOptions["llm"], log: (s: string) => void): Promise<LlmStep> {
  const { system, pool } = r;
  const targets = await system.targets(n, `llm-${system.name}-${n}`);
  const opened = await pool.open(system.protocol, { urls: system.urls, targets, subscribe: true });
  if (opened.opened !== n) throw new Error(`llm: ${system.name}: ${opened.failed} of ${n} clients failed to connect`);
  // Streams start together after a lead (the worker picks up n jobs first); each within its own
  // millisecond of the token period, as independent provider streams are.
  const startMs = Date.now() + 1_000 + n;
  const periodMs = 1000 / cfg.rate;
  const schedules: TokenSchedule[] = targets.map((_, s) => ({
    startMs: startMs + Math.floor((s * periodMs) / n),
    tokens: cfg.tokens,
    rate: cfg.rate,
  }));
  const armed = await pool.arm(
    cfg.rate,
    targets.map((t, s) => [t.name, (schedules[s] as TokenSchedule).startMs]),
  );
  if (armed !== n) throw new Error(`llm: ${system.name}: ${armed} of ${n} clients armed`);
  const cpuBefore = await cpuSeconds(system, pool);
  const t0 = Date.now();
  await system.stream(targets, schedules);
  const expected = n * cfg.tokens;
  const endMs = startMs + (cfg.tokens * 1000) / cfg.rate;
  // Until every token arrived, or (after the streams' end) nothing arrived for 2 s; bounded.
  const deadline = endMs + 60_000;
  let s = await pool.tokenStats();
  let last = -1;
  let still = 0;
  while (s.tokens < expected && Date.now() < deadline && (Date.now() < endMs || still < 8)) {
    await sleep(250);
    s = await pool.tokenStats();
    still = s.tokens === last ? still + 1 : 0;
    last = s.tokens;
  }
  const cpuAfter = await cpuSeconds(system, pool);
  const perToken = (k: keyof CpuSplit) => (s.tokens > 0 ? ((cpuAfter[k] - cpuBefore[k]) * 1e6) / s.tokens : Number.NaN);
  const split: CpuSplit = {
    server: perToken("server"),
    source: perToken("source"),
    redis: perToken("redis"),
    clients: perToken("clients"),
  };
  const cpu = cpuAfter.server + cpuAfter.source + cpuAfter.redis - (cpuBefore.server + cpuBefore.source + cpuBefore.redis);
  const seconds = (Date.now() - t0) / 1000;
  await pool.closeAll();
  const p99Ms = s.hist.quantileMs(0.99);
  const lostChars = (expected - s.tokens) * TOKEN_CHARS;
  if (lostChars > 0) log(`llm: ${system.name} ×${n}: ${expected - s.tokens} tokens missing`);
  return {
    system: system.name,
    streams: n,
    expectedTokens: expected,
    tokens: s.tokens,
    lostChars,
    duplicateTokens: s.dupTokens,
    framesPerStreamPerSec: s.frames / n / ((cfg.tokens * 1000) / cfg.rate / 1000),
    p50Ms: s.hist.quantileMs(0.5),
    p99Ms,
    maxMs: s.maxUs / 1000,
    cpuUsPerToken: s.tokens > 0 ? (cpu * 1e6) / s.tokens : Number.NaN,
    cpuSplitUsPerToken: split,
    cpuPercent: (cpu / seconds) * 100,
    pass: lostChars === 0 && s.dupTokens === 0 && p99Ms <= cfg.p99LimitMs,
  };
}
