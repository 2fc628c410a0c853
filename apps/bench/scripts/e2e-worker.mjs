// End to end through the real worker: runs of the demo agent (`/tools N`, DEMO_STEP_MS=0) queued by the
// gateways through BullMQ, executed by the worker, every event published, stored and delivered to the
// client that started the run. `--clients` clients over 2 gateways each start a run, wait for its
// terminal event, and start the next one on the same task, for `--seconds`. Reported: events delivered
// per second, runs per second, event latency (envelope ts → client) p50/p99, and every run checked
// gapless (its seqs consecutive from agent_started to its terminal event; lost and duplicate events
// counted). With `--base <checkout>` the same is run against another build, rounds alternating which goes
// first; each run gets a fresh redis-server. `docs/benchmarks.md` records what it found.
//   npm exec -- node apps/bench/scripts/e2e-worker.mjs [--base <checkout>] [--clients 200] [--tools 40]
//     [--seconds 20] [--rounds 3] [--workers 1] [--concurrency <WORKER_CONCURRENCY; default: the worker's>]
//     [--profile <dir>: the workers write V8 CPU profiles there]
// (after `npm run build`, in this checkout and in the base one.)
import { readFileSync } from "node:fs";
import { cpus } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { signDevToken, startGatewayProcess, startRedisServer, startWorkerProcess } from "@agentcast/testkit";
import { Redis } from "ioredis";
import { io } from "socket.io-client";
import { cpuSecondsOf } from "../dist/common/proc-stats.js";

const { values } = parseArgs({
  options: {
    base: { type: "string" },
    clients: { type: "string", default: "200" },
    tools: { type: "string", default: "40" },
    seconds: { type: "string", default: "20" },
    rounds: { type: "string", default: "1" },
    workers: { type: "string", default: "1" },
    concurrency: { type: "string" },
    profile: { type: "string" },
  },
});
const CLIENTS = Number(values.clients);
const TOOLS = Number(values.tools);
const SECONDS = Number(values.seconds);
const ROUNDS = Number(values.rounds);
const WORKERS = Number(values.workers);
const here = resolve(dirname(fileURLToPath(import.meta.url)), "../../..");
const builds = [{ name: "this", root: here }, ...(values.base ? [{ name: "base", root: resolve(values.base) }] : [])];

/** CPU seconds the whole machine spent busy (every core, every process, the kernel), from /proc/stat. */
function machineBusySeconds() {
  // cpu user nice system idle iowait irq softirq steal, in USER_HZ (100 per second on Linux).
  const f = readFileSync("/proc/stat", "utf8").split("\n")[0].trim().split(/\s+/).map(Number);
  return (f[1] + f[2] + f[3] + f[6] + f[7] + f[8]) / 100;
}

const TERMINAL = new Set(["agent_completed", "agent_error", "agent_cancelled"]);

async function runOnce(build) {
  const redis = await startRedisServer();
  const gatewayEnv = {
    LOG_LEVEL: "info",
    CONNECT_RATE_PER_IP_PER_SEC: "100000",
    CONNECT_BURST_PER_IP: "100000",
    RATE_LIMIT_USER_COMMANDS_PER_MIN: "100000",
  };
  const gateways = await Promise.all(
    [1, 2].map((i) =>
      startGatewayProcess({
        redisUrl: redis.url,
        id: `e2e-gw-${i}`,
        entry: join(build.root, "apps/gateway/dist/main.js"),
        env: gatewayEnv,
      }),
    ),
  );
  const workerEnv = {
    DEMO_STEP_MS: "0",
    ...(values.concurrency ? { WORKER_CONCURRENCY: values.concurrency } : {}),
    ...(values.profile ? { NODE_OPTIONS: `--cpu-prof --cpu-prof-dir=${resolve(values.profile)}` } : {}),
  };
  const workers = await Promise.all(
    Array.from({ length: WORKERS }, (_, i) =>
      startWorkerProcess({
        redisUrl: redis.url,
        id: `e2e-wk-${i + 1}`,
        entry: join(build.root, "apps/worker/dist/main.js"),
        env: workerEnv,
      }),
    ),
  );
  const latencies = [];
  let events = 0;
  let runs = 0;
  let lost = 0;
  let duplicates = 0;
  let failedRuns = 0;
  let measuring = false;
  const sockets = [];
  try {
    const clients = await Promise.all(
      Array.from({ length: CLIENTS }, async (_, i) => {
        const token = await signDevToken(`e2e-${i}`);
        const socket = io(gateways[i % 2].url, { transports: ["websocket"], auth: { token }, reconnection: false });
        sockets.push(socket);
        await new Promise((res, rej) => {
          socket.once("connection_established", res);
          socket.once("connect_error", rej);
        });
        return socket;
      }),
    );
    const probe = new Redis(redis.url);
    const redisCpu = async () => {
      const info = await probe.info("cpu");
      return Number(/used_cpu_user:([\d.]+)/.exec(info)?.[1]) + Number(/used_cpu_sys:([\d.]+)/.exec(info)?.[1]);
    };
    // Script calls Redis ran (EVALSHA, and EVAL when a script is loaded): how many events one call carries.
    const scriptCalls = async () =>
      [...(await probe.info("commandstats")).matchAll(/cmdstat_eval(?:sha)?:calls=(\d+)/g)].reduce((n, m) => n + Number(m[1]), 0);
    const cpuOf = async () => ({
      gateways: (await Promise.all(gateways.map((g) => cpuSecondsOf(g.child.pid)))).reduce((a, b) => a + b, 0),
      workers: (await Promise.all(workers.map((w) => cpuSecondsOf(w.child.pid)))).reduce((a, b) => a + b, 0),
      redis: await redisCpu(),
      // This process: the 200 clients, which share the machine with what is measured.
      clients: (process.cpuUsage().user + process.cpuUsage().system) / 1e6,
      machine: machineBusySeconds(),
      scripts: await scriptCalls(),
    });
    const cpuBefore = await cpuOf();
    const deadline = Date.now() + SECONDS * 1_000;
    const started = Date.now();
    measuring = true;
    await Promise.all(
      clients.map(async (socket) => {
        // Every event this client gets, by run (events can arrive before the ack that names the run).
        const byRun = new Map();
        const waiters = new Map();
        const runOf = (runId) => {
          const known = byRun.get(runId);
          if (known) return known;
          const run = { seqs: [], terminal: undefined };
          byRun.set(runId, run);
          return run;
        };
        socket.on("event", (e) => {
          if (measuring) {
            events++;
            latencies.push(Date.now() - e.ts);
          }
          const run = runOf(e.runId);
          run.seqs.push(e.seq);
          if (TERMINAL.has(e.type)) {
            run.terminal = e.type;
            waiters.get(e.runId)?.();
          }
        });
        let taskId;
        while (Date.now() < deadline) {
          const ack = await socket
            .timeout(30_000)
            .emitWithAck("user_message", { text: `/tools ${TOOLS} bench`, ...(taskId ? { taskId } : {}) });
          if (!ack.ok) throw new Error(`user_message refused: ${JSON.stringify(ack.error)}`);
          taskId = ack.taskId;
          const run = runOf(ack.runId);
          if (!run.terminal) {
            await new Promise((res) => {
              const timer = setTimeout(res, 60_000);
              waiters.set(ack.runId, () => {
                clearTimeout(timer);
                res();
              });
            });
            waiters.delete(ack.runId);
          }
          if (run.terminal !== "agent_completed") failedRuns++;
          if (measuring) runs++;
          // Gapless within the run: consecutive seqs from its first event to its terminal one.
          const unique = new Set(run.seqs);
          duplicates += run.seqs.length - unique.size;
          if (run.seqs.length > 0) lost += Math.max(...run.seqs) - Math.min(...run.seqs) + 1 - unique.size;
          byRun.delete(ack.runId);
        }
      }),
    );
    measuring = false;
    const seconds = (Date.now() - started) / 1000;
    const cpuAfter = await cpuOf();
    probe.disconnect();
    const usPerEvent = (role) => ((cpuAfter[role] - cpuBefore[role]) * 1e6) / events;
    const cpu = {
      gateways: usPerEvent("gateways"),
      workers: usPerEvent("workers"),
      redis: usPerEvent("redis"),
      clients: usPerEvent("clients"),
    };
    const busy = (cpuAfter.machine - cpuBefore.machine) / seconds / cpus().length;
    const eventsPerScriptCall = events / Math.max(1, cpuAfter.scripts - cpuBefore.scripts);
    latencies.sort((a, b) => a - b);
    const q = (f) => latencies[Math.min(latencies.length - 1, Math.floor(f * latencies.length))] ?? 0;
    return {
      eventsPerSec: events / seconds,
      runsPerSec: runs / seconds,
      p50: q(0.5),
      p99: q(0.99),
      lost,
      duplicates,
      failedRuns,
      cpu,
      busy,
      eventsPerScriptCall,
    };
  } finally {
    for (const s of sockets) s.disconnect();
    for (const w of workers) await w.stop();
    for (const g of gateways) await g.stop();
    await redis.stop();
  }
}

const results = new Map(builds.map((b) => [b.name, []]));
for (let round = 1; round <= ROUNDS; round++) {
  const order = round % 2 === 1 ? builds : [...builds].reverse();
  for (const build of order) {
    const r = await runOnce(build);
    results.get(build.name).push(r);
    process.stderr.write(
      `round ${round} ${build.name}: ${Math.round(r.eventsPerSec)} events/s, ${r.runsPerSec.toFixed(1)} runs/s, p50 ${r.p50} ms, p99 ${r.p99} ms, lost ${r.lost}, dup ${r.duplicates}, failed runs ${r.failedRuns}; CPU µs/event: gateways ${r.cpu.gateways.toFixed(1)}, workers ${r.cpu.workers.toFixed(1)}, redis ${r.cpu.redis.toFixed(1)}, clients ${r.cpu.clients.toFixed(1)}; machine ${Math.round(100 * r.busy)} % busy; ${r.eventsPerScriptCall.toFixed(1)} events per script call\n`,
    );
  }
}
const cell = (runs, f) => runs.map(f).join(" / ");
process.stdout.write(
  `\n${CLIENTS} clients over 2 gateways, ${WORKERS} worker(s)${values.concurrency ? ` × WORKER_CONCURRENCY ${values.concurrency}` : ""}, runs of ${TOOLS} tool calls, ${SECONDS} s per run\n\n` +
    "| build | events/s | runs/s | p50 / p99 ms | lost / dup / failed runs | CPU µs/event: gateways / workers / Redis / clients | machine busy | events per script call |\n| --- | --- | --- | --- | --- | --- | --- | --- |\n",
);
for (const b of builds) {
  const runs = results.get(b.name);
  process.stdout.write(
    `| ${b.name} (${b.root}) | ${cell(runs, (r) => Math.round(r.eventsPerSec))} | ${cell(runs, (r) => r.runsPerSec.toFixed(1))} | ${cell(runs, (r) => `${r.p50}/${r.p99}`)} | ${cell(runs, (r) => `${r.lost}/${r.duplicates}/${r.failedRuns}`)} | ${cell(runs, (r) => `${r.cpu.gateways.toFixed(0)}/${r.cpu.workers.toFixed(0)}/${r.cpu.redis.toFixed(0)}/${r.cpu.clients.toFixed(0)}`)} | ${cell(runs, (r) => `${Math.round(100 * r.busy)} %`)} | ${cell(runs, (r) => r.eventsPerScriptCall.toFixed(1))} |\n`,
  );
}
