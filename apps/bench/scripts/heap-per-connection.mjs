// Where a server's memory per idle connection goes: V8 heap snapshots of one server process before
// and after N idle websocket connections (raw `ws` clients speaking Engine.IO/Socket.IO), diffed by
// constructor. `docs/benchmarks.md` ("Where the idle memory goes") records what it found.
//   node apps/bench/scripts/heap-per-connection.mjs [agentcast|socketio] [connections=2000]
import { spawn } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { signDevToken, startGatewayProcess, startRedisServer } from "@agentcast/testkit";
import WebSocket from "ws";

const system = process.argv[2] ?? "agentcast";
const n = Math.min(Number(process.argv[3] ?? 2_000), 15_000);
const dir = mkdtempSync(join(tmpdir(), "heap-"));
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function startServer() {
  process.chdir(dir); // children inherit it: that is where their heap snapshots are written
  if (system === "agentcast") {
    const redis = await startRedisServer();
    const gw = await startGatewayProcess({
      redisUrl: redis.url,
      env: {
        NODE_OPTIONS: "--heapsnapshot-signal=SIGUSR2",
        CONNECT_RATE_PER_IP_PER_SEC: "100000",
        CONNECT_BURST_PER_IP: "100000",
        MAX_CONNECTIONS_PER_USER: "100000",
      },
    });
    return {
      port: gw.port,
      pid: gw.child.process.pid,
      stop: async () => {
        await gw.stop();
        await redis.stop();
      },
    };
  }
  const child = spawn(
    process.execPath,
    ["--heapsnapshot-signal=SIGUSR2", new URL("./stock-socketio-server.mjs", import.meta.url).pathname],
    {
      cwd: dir,
      stdio: ["ignore", "pipe", "inherit"],
    },
  );
  const port = await new Promise((r) => child.stdout.once("data", (d) => r(JSON.parse(d.toString()).port)));
  return { port, pid: child.pid, stop: async () => child.kill() };
}

function byConstructor(file) {
  const snap = JSON.parse(readFileSync(file, "utf8"));
  const {
    node_fields: f,
    node_types: [types],
  } = snap.snapshot.meta;
  const [ti, ni, si] = ["type", "name", "self_size"].map((k) => f.indexOf(k));
  const totals = new Map();
  for (let i = 0; i < snap.nodes.length; i += f.length) {
    const type = types[snap.nodes[i + ti]];
    const key = type === "object" || type === "closure" ? `${type} ${snap.strings[snap.nodes[i + ni]]}` : type;
    const t = totals.get(key) ?? { count: 0, bytes: 0 };
    t.count++;
    t.bytes += snap.nodes[i + si];
    totals.set(key, t);
  }
  return totals;
}

const server = await startServer();
const snapshot = async () => {
  const before = new Set(readdirSync(dir));
  process.kill(server.pid, "SIGUSR2");
  for (let i = 0; i < 100; i++) {
    await sleep(200);
    const added = readdirSync(dir).filter((f) => f.endsWith(".heapsnapshot") && !before.has(f));
    if (added.length > 0) {
      await sleep(1_000); // let the writer finish
      return join(dir, added[0]);
    }
  }
  throw new Error("no heap snapshot written");
};
const first = await snapshot();
const sockets = [];
for (let i = 0; i < n; i++) {
  const auth = system === "agentcast" ? JSON.stringify({ token: await signDevToken(`heap-${i}`) }) : "";
  await new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${server.port}/socket.io/?EIO=4&transport=websocket`);
    ws.on("message", (d) => {
      const m = d.toString();
      if (m.startsWith("0")) ws.send(`40${auth}`);
      else if (m.startsWith("42") && m.includes("connection_established")) resolve();
      else if (m === "2") ws.send("3");
    });
    ws.on("error", reject);
    sockets.push(ws);
  });
}
await sleep(2_000);
const second = await snapshot();
for (const ws of sockets) ws.terminate();
await server.stop();
const a = byConstructor(first);
const b = byConstructor(second);
rmSync(dir, { recursive: true, force: true });
const rows = [...b]
  .map(([k, v]) => [k, (v.bytes - (a.get(k)?.bytes ?? 0)) / n, (v.count - (a.get(k)?.count ?? 0)) / n])
  .sort((x, y) => y[1] - x[1]);
const total = rows.reduce((sum, r) => sum + r[1], 0);
process.stdout.write(
  `${system}: ${n} idle connections, V8 heap ${Math.round(total)} B per connection\n\n| bytes/conn | objects/conn | kind |\n|---|---|---|\n`,
);
for (const [k, bytes, count] of rows.slice(0, 25)) process.stdout.write(`| ${Math.round(bytes)} | ${count.toFixed(2)} | ${k} |\n`);
