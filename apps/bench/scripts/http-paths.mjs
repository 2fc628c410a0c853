// The gateway's HTTP paths, two builds side by side: each build runs as its own gateway process on one
// Redis; rounds alternate between them so machine noise falls on both. Per path: requests/s with 32
// keep-alive requests in flight for 3 s, and p50/p99 latency. `docs/benchmarks.md` records what it found.
//   npm exec -- node apps/bench/scripts/http-paths.mjs <before/dist/main.js> <after/dist/main.js> [rounds=3]
// (after `npm run build`; build the base commit in a worktree: `git worktree add ../base <sha>`, then
// `npx tsc -p tsconfig.build.json` in its apps/gateway.)
import { Agent, request } from "node:http";
import { createKeys, EventPublisher, TaskStore } from "@agentcast/store";
import { signDevToken, startGatewayProcess, startRedisServer } from "@agentcast/testkit";
import { Redis } from "ioredis";

const [before, after, roundsArg] = process.argv.slice(2);
if (!before || !after) {
  process.stderr.write("usage: http-paths.mjs <before main.js> <after main.js> [rounds]\n");
  process.exit(2);
}
const ROUNDS = Number(roundsArg ?? 3);
const IN_FLIGHT = 32;
const DURATION_MS = 3_000;

const server = await startRedisServer();
const redis = new Redis(server.url);
const keys = createKeys("ac");
const tasks = new TaskStore(redis, { keys, historyTtlSeconds: 3_600 });
const publisher = new EventPublisher(redis, { keys, historyMaxLen: 10_000, historyTtlSeconds: 3_600 });
const { taskId, runId } = await tasks.createTask("bench-user", "http paths");
await publisher.publish({ taskId, runId, userId: "bench-user", type: "agent_started", data: { input: "x" } });
for (let i = 0; i < 200; i++)
  await publisher.publish({ taskId, runId, userId: "bench-user", type: "agent_output", data: { delta: "x".repeat(150) } });
const token = await signDevToken("bench-user");
const auth = { authorization: `Bearer ${token}` };

// Handshakes are rate-limited per client IP; everything here comes from 127.0.0.1.
const GATEWAY_ENV = { CONNECT_RATE_PER_IP_PER_SEC: "1000000", CONNECT_BURST_PER_IP: "1000000" };
const builds = {
  before: await startGatewayProcess({ redisUrl: server.url, entry: before, env: GATEWAY_ENV }),
  after: await startGatewayProcess({ redisUrl: server.url, entry: after, env: GATEWAY_ENV }),
};
const paths = [
  { name: "Engine.IO handshake (GET /socket.io/?EIO=4&transport=polling)", path: "/socket.io/?EIO=4&transport=polling", headers: {} },
  { name: "GET /healthz", path: "/healthz", headers: {} },
  { name: "GET /v1/tasks/:taskId", path: `/v1/tasks/${taskId}`, headers: auth },
  { name: "GET /v1/tasks/:taskId/events (201 events)", path: `/v1/tasks/${taskId}/events?limit=500`, headers: auth },
  { name: "GET /v1/tasks (list)", path: "/v1/tasks?limit=20", headers: auth },
  { name: "404 (GET /v1/nothing)", path: "/v1/nothing", headers: auth },
];

function once(agent, port, p) {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const req = request({ host: "127.0.0.1", port, path: p.path, headers: p.headers, agent }, (res) => {
      res.resume();
      res.on("end", () => resolve({ status: res.statusCode, ms: Number(process.hrtime.bigint() - started) / 1e6 }));
    });
    req.on("error", reject);
    req.end();
  });
}

async function measure(gw, p) {
  const agent = new Agent({ keepAlive: true, maxSockets: IN_FLIGHT });
  const latencies = [];
  const statuses = new Set();
  const deadline = Date.now() + DURATION_MS;
  const started = Date.now();
  await Promise.all(
    Array.from({ length: IN_FLIGHT }, async () => {
      while (Date.now() < deadline) {
        const r = await once(agent, gw.port, p);
        statuses.add(r.status);
        latencies.push(r.ms);
      }
    }),
  );
  agent.destroy();
  latencies.sort((a, b) => a - b);
  const q = (f) => latencies[Math.min(latencies.length - 1, Math.floor(f * latencies.length))];
  return { rps: latencies.length / ((Date.now() - started) / 1000), p50: q(0.5), p99: q(0.99), statuses: [...statuses].join(",") };
}

const results = new Map();
for (let round = 1; round <= ROUNDS; round++) {
  for (const p of paths) {
    const order = round % 2 === 1 ? ["before", "after"] : ["after", "before"];
    for (const name of order) {
      const r = await measure(builds[name], p);
      const key = `${p.name}|${name}`;
      results.set(key, [...(results.get(key) ?? []), r]);
      process.stderr.write(`round ${round} ${name.padEnd(6)} ${p.name}: ${Math.round(r.rps)}/s (status ${r.statuses})\n`);
    }
  }
}

const fmt = (runs, f) => runs.map(f).join(" / ");
process.stdout.write(
  `\n| path | before req/s | after req/s | before p50 / p99 ms | after p50 / p99 ms |\n| --- | --- | --- | --- | --- |\n`,
);
for (const p of paths) {
  const b = results.get(`${p.name}|before`);
  const a = results.get(`${p.name}|after`);
  process.stdout.write(
    `| ${p.name} | ${fmt(b, (r) => Math.round(r.rps))} | ${fmt(a, (r) => Math.round(r.rps))} | ` +
      `${fmt(b, (r) => `${r.p50.toFixed(1)}/${r.p99.toFixed(1)}`)} | ${fmt(a, (r) => `${r.p50.toFixed(1)}/${r.p99.toFixed(1)}`)} |\n`,
  );
}
await builds.before.stop();
await builds.after.stop();
redis.disconnect();
await server.stop();
