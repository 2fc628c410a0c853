// `npm start`: the whole stack on this machine, no Docker — Redis, 2 gateways behind a balancer on PORT (3000),
// a worker, and the web console — then prints the URL and a dev token. Ctrl-C stops everything.
// Which Redis, first match wins:
//   REDIS_CLUSTER_NODES=host:port,…   that Redis Cluster (REDIS_USERNAME / REDIS_PASSWORD are passed on)
//   REDIS_URL=redis://…               that Redis node
//   REDIS_MODE=cluster                a local Redis Cluster (3 masters + 3 replicas) started for this stack
//   otherwise                         the Redis answering on REDIS_PROBE_ADDRESS (127.0.0.1:6379), else a fresh redis-server
import { accessSync, constants } from "node:fs";
import { connect } from "node:net";
import { delimiter, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = resolve(fileURLToPath(import.meta.url), "../..");
const port = Number(process.env.PORT ?? 3000);
const INSTALL = "install Redis 7 (apt-get install redis-server, brew install redis) or set REDIS_URL / REDIS_CLUSTER_NODES";

/** Prints one line and exits 1: the reason `npm start` cannot go on, without a stack trace. */
function fail(message) {
  process.stderr.write(`npm start: ${message}\n`);
  process.exit(1);
}

/** True when `bin` (a path, or a name looked up on PATH) is an executable file. */
function executable(bin) {
  const candidates = bin.includes("/")
    ? [bin]
    : (process.env.PATH ?? "")
        .split(delimiter)
        .filter(Boolean)
        .map((dir) => join(dir, bin));
  return candidates.some((file) => {
    try {
      accessSync(file, constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

function redisAnswers(host, redisPort) {
  return new Promise((done) => {
    const socket = connect({ host, port: redisPort });
    const finish = (ok) => {
      socket.destroy();
      done(ok);
    };
    socket.setTimeout(500, () => finish(false));
    socket.on("error", () => finish(false));
    socket.on("connect", () => socket.write("PING\r\n"));
    socket.on("data", (d) => finish(d.toString().startsWith("+PONG")));
  });
}

/** The Redis to use: given by the environment, found running, or what to spawn (after checking the binaries exist). */
async function chooseRedis() {
  const mode = process.env.REDIS_MODE?.trim() || "single";
  if (mode !== "single" && mode !== "cluster") fail(`REDIS_MODE must be "single" or "cluster", not "${mode}"`);
  const clusterNodes = process.env.REDIS_CLUSTER_NODES?.trim();
  const url = process.env.REDIS_URL?.trim();
  if (clusterNodes && url) fail("set REDIS_URL (one Redis node) or REDIS_CLUSTER_NODES (a Redis Cluster), not both");
  if (url && mode === "cluster")
    fail("REDIS_MODE=cluster starts a local cluster: unset REDIS_URL, or set REDIS_CLUSTER_NODES to use yours");
  if (clusterNodes) return { options: { redisClusterNodes: clusterNodes }, started: false };
  if (url) return { options: { redisUrl: url }, started: false };
  const server = process.env.REDIS_SERVER_BIN || "redis-server";
  if (mode === "cluster") {
    const cli = process.env.REDIS_CLI_BIN || "redis-cli";
    for (const bin of [server, cli])
      if (!executable(bin)) fail(`${bin} not found (REDIS_MODE=cluster needs redis-server and redis-cli): ${INSTALL}`);
    return { options: { redis: "cluster" }, started: true };
  }
  const probe = process.env.REDIS_PROBE_ADDRESS?.trim() || "127.0.0.1:6379";
  const at = probe.lastIndexOf(":");
  const [probeHost, probePort] = [probe.slice(0, at), Number(probe.slice(at + 1))];
  if (!probeHost || !Number.isInteger(probePort) || probePort < 1 || probePort > 65_535)
    fail(`REDIS_PROBE_ADDRESS must be host:port, not "${probe}"`);
  if (await redisAnswers(probeHost, probePort)) return { options: { redisUrl: `redis://${probe}` }, started: false };
  if (!executable(server)) fail(`${server} not found and no Redis answers on ${probe}: ${INSTALL}`);
  return { options: { redis: "single" }, started: true };
}

const redis = await chooseRedis();
const { DEV_JWT_SECRET, signDevToken, startLocalStack } = await import("../packages/testkit/dist/index.js");
let stack;
try {
  stack = await startLocalStack({
    gateways: 2,
    workers: 1,
    ...redis.options,
    balancerPort: port,
    gatewayEnv: { CORS_ORIGINS: "*", WEB_ROOT: resolve(root, "apps/web/dist"), JWT_SECRET: process.env.JWT_SECRET ?? DEV_JWT_SECRET },
    workerEnv: { DEMO_STEP_MS: process.env.DEMO_STEP_MS ?? "150" },
  });
} catch (err) {
  process.stderr.write(`could not start the local stack: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
}
const token = await signDevToken("dev", {
  expiresInSeconds: 24 * 3600,
  ...(process.env.JWT_SECRET ? { secret: process.env.JWT_SECRET } : {}),
});
const started = redis.started ? " (started for this stack)" : "";
// Which agent runs: the worker says so in its "worker ready" line (it decides: AGENT_MODULE, AGENT, else llm with LLM_BASE_URL).
const env = process.env;
const agent = stack.workers[0]?.agent ?? "unknown";
const agentLine = env.AGENT_MODULE
  ? `agent           ${agent}: ${env.AGENT_MODULE} (AGENT_MODULE)`
  : agent === "llm"
    ? `agent           llm: ${env.LLM_MODEL} at ${env.LLM_BASE_URL}`
    : agent === "ag-ui"
      ? `agent           ag-ui: the AG-UI agent at ${env.AGENT_URL}`
      : `agent           ${agent} (LLM_BASE_URL + LLM_MODEL run a real model, e.g. Ollama: http://localhost:11434/v1)`;
const redisLine = stack.redisClusterNodes
  ? `redis cluster   ${stack.redisClusterNodes}${redis.started ? " (3 masters + 3 replicas, started for this stack)" : ""}`
  : `redis           ${stack.redisUrl}${started}`;
process.stdout.write(`
agentcast is running
  console + API   ${stack.url}   (balanced over ${stack.gateways.map((g) => g.url).join(", ")})
  ${redisLine}
  ${agentLine}
  metrics         ${[...stack.gateways, ...stack.workers].map((p) => `http://127.0.0.1:${p.metricsPort}/metrics`).join(" ")}

dev token (user "dev", 24 h):
  ${token}

try it:
  open ${stack.url} and paste the token, or
  curl -s -XPOST ${stack.url}/v1/tasks -H "authorization: Bearer ${token}" -H content-type:application/json -d '{"text":"/ask what is 6*7"}'
  npx agentcast probe ${stack.url} --token ${token}

Ctrl-C to stop.
`);
let stopping = false;
for (const signal of ["SIGINT", "SIGTERM"]) {
  process.on(signal, async () => {
    if (stopping) return;
    stopping = true;
    await stack.stop();
    process.exit(0);
  });
}
