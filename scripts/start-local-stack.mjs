// `npm start`: the whole stack on this machine, no Docker — Redis (the one on 127.0.0.1:6379 if it
// answers, else a fresh redis-server), 2 gateways behind a balancer on PORT (3000), a worker, and the
// web console — then prints the URL and a dev token. Ctrl-C stops everything.
import { connect } from "node:net";
import { resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { DEV_JWT_SECRET, signDevToken, startLocalStack } from "../packages/testkit/dist/index.js";

const root = resolve(fileURLToPath(import.meta.url), "../..");
const port = Number(process.env.PORT ?? 3000);

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

const redisUrl = process.env.REDIS_URL ?? ((await redisAnswers("127.0.0.1", 6379)) ? "redis://127.0.0.1:6379" : undefined);
let stack;
try {
  stack = await startLocalStack({
    gateways: 2,
    workers: 1,
    ...(redisUrl ? { redisUrl } : {}),
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
process.stdout.write(`
agentcast is running
  console + API   ${stack.url}   (balanced over ${stack.gateways.map((g) => g.url).join(", ")})
  redis           ${stack.redisUrl}${redisUrl ? "" : " (started for this stack)"}
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
