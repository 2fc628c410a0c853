import { execFileSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { cpus, release, totalmem } from "node:os";
import { join } from "node:path";
import { parseClusterNodes, type RedisClusterHandle, startRedisCluster, startRedisServer } from "@agentcast/testkit";
import { Redis } from "ioredis";
import { parseArgs } from "./cli/args.js";
import type { BenchOptions } from "./cli/options.js";
import type { BenchResults } from "./report/results.js";
import { formatTables } from "./report/table.js";
import { runFanout } from "./scenarios/fanout.js";
import { runIdle } from "./scenarios/idle.js";
import { runIsolation } from "./scenarios/isolation.js";
import { runLlm } from "./scenarios/llm.js";
import { runStorm } from "./scenarios/storm.js";
import { runSweep } from "./scenarios/sweep.js";
import type { BenchRedis } from "./systems/system.js";

function redisVersion(): string {
  try {
    return execFileSync("redis-server", ["--version"], { encoding: "utf8" }).trim();
  } catch {
    return "unknown";
  }
}

/** Runs the chosen scenarios against a fresh redis-server (and a fresh local Redis Cluster with `--redis cluster`); never touches a shared Redis. */
export async function runBench(o: BenchOptions, log: (s: string) => void = (s) => console.error(s)): Promise<BenchResults> {
  const results: BenchResults = {
    startedAt: new Date().toISOString(),
    command: `npm run bench -- ${process.argv.slice(2).join(" ")}`.trim(),
    machine: {
      cpus: cpus().length,
      cpuModel: cpus()[0]?.model ?? "unknown",
      memoryGB: Math.round(totalmem() / 2 ** 30),
      node: process.version,
      redis: redisVersion(),
      kernel: release(),
    },
    options: o,
    errors: [],
  };
  const single = await startRedisServer();
  let cluster: RedisClusterHandle | undefined;
  try {
    const redis: BenchRedis = { url: single.url };
    if (o.redis === "cluster" && o.clusterNodes) {
      redis.cluster = await givenCluster(o.clusterNodes);
      log(`redis cluster (REDIS_CLUSTER_NODES): masters ${redis.cluster.masters.join(", ")}`);
    } else if (o.redis === "cluster") {
      cluster = await startRedisCluster();
      const masters = (await cluster.masters()).map((m) => m.node.address);
      redis.cluster = { seeds: cluster.seeds, masters };
      log(`redis cluster up: masters ${masters.join(", ")}`);
    }
    for (const scenario of o.scenarios) {
      log(`== ${scenario}`);
      try {
        if (scenario === "sweep") results.sweep = await runSweep(o, redis, log);
        if (scenario === "idle") results.idle = await runIdle(o, redis, log);
        if (scenario === "isolation") results.isolation = await runIsolation(o, redis, log);
        if (scenario === "storm" && o.systems.includes("agentcast")) results.storm = await runStorm(o, single.url, log);
        if (scenario === "fanout") results.fanout = await runFanout(o, redis, log);
        if (scenario === "llm") results.llm = await runLlm(o, single.url, log);
      } catch (err) {
        const message = err instanceof Error ? (err.stack ?? err.message) : String(err);
        results.errors.push({ scenario, message });
        log(`${scenario} failed: ${message}`);
      }
    }
  } finally {
    await cluster?.stop();
    await single[Symbol.asyncDispose]();
  }
  results.finishedAt = new Date().toISOString();
  return results;
}

/** A running cluster named by its seeds: loopback only (the bench is a load generator), masters read from CLUSTER NODES. */
async function givenCluster(seeds: string): Promise<NonNullable<BenchRedis["cluster"]>> {
  const nodes = seeds
    .split(",")
    .map((s) => s.trim().replace(/^redis:\/\//, ""))
    .filter(Boolean);
  const hosts = nodes.map((n) => n.slice(0, n.lastIndexOf(":")));
  if (nodes.length === 0 || hosts.some((h) => !/^(127\.\d+\.\d+\.\d+|localhost|\[?::1\]?)$/.test(h)))
    throw new Error(`REDIS_CLUSTER_NODES: the bench loads only a cluster on this machine (127.0.0.0/8, localhost, ::1), not ${seeds}`);
  const first = nodes[0] as string;
  const client = new Redis({
    host: first.slice(0, first.lastIndexOf(":")),
    port: Number(first.slice(first.lastIndexOf(":") + 1)),
    lazyConnect: true,
  });
  try {
    await client.connect();
    const all = parseClusterNodes((await client.call("CLUSTER", "NODES")) as string);
    const masters = all.filter((n) => n.flags.includes("master") && !n.flags.includes("fail") && n.slots.length > 0).map((n) => n.address);
    return { seeds: nodes.join(","), masters };
  } finally {
    client.disconnect();
  }
}

/** Writes bench-results/<timestamp>.json and latest.json under `dir`; returns the path. */
export function writeResults(dir: string, results: BenchResults): string {
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `bench-${results.startedAt.replace(/[:.]/g, "-")}.json`);
  const json = `${JSON.stringify(results, null, 2)}\n`;
  writeFileSync(file, json);
  writeFileSync(join(dir, "latest.json"), json);
  return file;
}

const isMain = process.argv[1]?.endsWith("/main.js") ?? false;
if (isMain) {
  let options: BenchOptions;
  try {
    options = parseArgs(process.argv.slice(2));
  } catch (err) {
    console.error(err instanceof Error ? err.message : String(err));
    process.exit(2);
  }
  const results = await runBench(options);
  const tables = formatTables(results);
  process.stdout.write(`${tables}\n`);
  // npm runs workspace scripts in the workspace: results go to the repository root's bench-results/.
  const root = process.env.INIT_CWD ?? process.cwd();
  if (options.outDir) console.error(`results: ${writeResults(join(root, options.outDir), results)}`);
  process.exit(results.errors.length > 0 ? 1 : 0);
}
