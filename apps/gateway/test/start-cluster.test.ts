// `npm start` and the testkit on a Redis Cluster: `REDIS_MODE=cluster npm start` starts a local cluster for
// the stack, and REDIS_CLUSTER_NODES points `npm start` and `startLocalStack()` at a cluster that already runs.
// Each: the printed URLs answer, one run goes through (the SDK test client and the CLI's probe), its task is
// on the cluster, Ctrl-C stops what was started and only that.
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import type { EventEnvelope } from "@agentcast/protocol";
import {
  GatewayTestClient,
  parseClusterNodes,
  type RedisClusterHandle,
  signDevToken,
  startLocalStack,
  startRedisCluster,
  validateRun,
} from "@agentcast/testkit";
import { Cluster } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { listening, type PrintedStack, runStartScript } from "./start-script.js";

const CLI = fileURLToPath(new URL("../../cli/bin/agentcast.mjs", import.meta.url));

/** One run through `url` as `token`'s user: it must pass the run rules and end with the demo agent's answer. */
async function oneRun(url: string, token: string, userId: string): Promise<string> {
  const client = new GatewayTestClient({ url, token });
  try {
    await client.connect();
    const ack = await client.command("user_message", { text: "what is 2+3" });
    if (!ack.ok) throw new Error(JSON.stringify(ack));
    const run = await client.collectRun(ack.taskId);
    expect(validateRun(run, { userId }).ok).toBe(true);
    expect((run.at(-1) as EventEnvelope).data).toMatchObject({ result: { answer: "2+3 = 5" } });
    return ack.taskId;
  } finally {
    client.disconnect();
  }
}

/** `agentcast probe <url> --token …`, the command the script prints: its exit code (0 = the run passed every check). */
function probe(url: string, token: string): Promise<number | null> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, "probe", url, "--token", token, "--timeout", "30s"], { stdio: "ignore" });
    const timer = setTimeout(() => child.kill("SIGKILL"), 45_000);
    child.once("error", reject);
    child.once("exit", (code) => {
      clearTimeout(timer);
      resolve(code);
    });
  });
}

/** Whether the cluster behind `seeds` holds task `taskId` (`ac:{<taskId>}:task`), asked through a cluster client. */
async function clusterHasTask(seeds: string, taskId: string): Promise<boolean> {
  const cluster = new Cluster(seeds.split(",").map((s) => ({ host: s.split(":")[0] as string, port: Number(s.split(":")[1]) })));
  try {
    return (await cluster.exists(`ac:{${taskId}}:task`)) === 1;
  } finally {
    cluster.disconnect();
  }
}

/** Every URL the script printed answers: the balancer and each gateway are ready, each metrics endpoint serves. */
async function urlsAnswer(printed: PrintedStack): Promise<void> {
  expect(printed.gatewayUrls).toHaveLength(2);
  expect(printed.metricsUrls).toHaveLength(3); // 2 gateways + 1 worker
  for (const url of [printed.url, ...printed.gatewayUrls]) expect((await fetch(`${url}/readyz`)).status, url).toBe(200);
  for (const url of printed.metricsUrls) expect(await (await fetch(url)).text(), url).toContain("agentcast_");
}

describe("REDIS_MODE=cluster npm start", () => {
  it("starts a local 3 + 3 cluster, serves a run on it, and Ctrl-C stops every node", async () => {
    const s = runStartScript({ REDIS_MODE: "cluster" });
    try {
      const printed = await s.started(90_000);
      expect(printed.redis).toMatch(/\(3 masters \+ 3 replicas, started for this stack\)$/);
      const seeds = (printed.clusterSeeds ?? "").split(",");
      expect(seeds).toHaveLength(6);
      const cluster = new Cluster([{ host: "127.0.0.1", port: Number(seeds[0]?.split(":")[1]) }]);
      try {
        const nodes = parseClusterNodes((await cluster.call("CLUSTER", "NODES")) as string);
        expect(nodes.filter((n) => n.flags.includes("master")).length).toBe(3);
        expect(nodes.filter((n) => n.flags.includes("slave")).length).toBe(3);
      } finally {
        cluster.disconnect();
      }
      await urlsAnswer(printed);
      const taskId = await oneRun(printed.url, printed.token, "dev");
      expect(await clusterHasTask(printed.clusterSeeds ?? "", taskId)).toBe(true);
      expect(await probe(printed.url, printed.token)).toBe(0);

      expect(await s.interrupt(30_000)).toEqual({ code: 0, signal: null });
      const stillListening = await Promise.all(seeds.map(listening));
      expect(stillListening).toEqual(seeds.map(() => false));
    } finally {
      s.killAll();
    }
  }, 150_000);
});

describe("REDIS_CLUSTER_NODES: npm start and startLocalStack use a cluster that already runs", () => {
  let cluster: RedisClusterHandle;
  beforeAll(async () => {
    cluster = await startRedisCluster();
  });
  afterAll(() => cluster?.stop());

  it("npm start uses it (and spawns no Redis), serves a run on it, and leaves it running on Ctrl-C", async () => {
    const s = runStartScript({ REDIS_CLUSTER_NODES: cluster.seeds });
    try {
      const printed = await s.started(60_000);
      expect(printed.redis).toBe(cluster.seeds); // nothing "started for this stack"
      await urlsAnswer(printed);
      const taskId = await oneRun(printed.url, printed.token, "dev");
      expect(await clusterHasTask(cluster.seeds, taskId)).toBe(true);
      expect(await probe(printed.url, printed.token)).toBe(0);
      expect(await s.interrupt(30_000)).toEqual({ code: 0, signal: null });
      await cluster.waitUntilHealthy(10_000);
      expect(await clusterHasTask(cluster.seeds, taskId)).toBe(true);
    } finally {
      s.killAll();
    }
  }, 120_000);

  it("startLocalStack() with REDIS_CLUSTER_NODES in the environment runs its gateways and workers on it (one seed, a replica, is enough)", async () => {
    const before = process.env.REDIS_CLUSTER_NODES;
    // A replica as the only seed: every command and subscription must go to nodes learnt from it.
    const masters = new Set((await cluster.masters()).map((m) => m.node.address));
    const replica = cluster.nodes.find((n) => !masters.has(n.address));
    if (!replica) throw new Error("no replica in the cluster");
    const oneSeed = replica.address;
    process.env.REDIS_CLUSTER_NODES = oneSeed;
    try {
      await using stack = await startLocalStack({ gateways: 1, workers: 1 });
      expect([stack.redisClusterNodes, stack.redisUrl, stack.redis, stack.cluster]).toEqual([oneSeed, "", undefined, undefined]);
      const taskId = await oneRun(stack.url, await signDevToken("env-cluster-user"), "env-cluster-user");
      expect(await clusterHasTask(cluster.seeds, taskId)).toBe(true);
    } finally {
      if (before === undefined) delete process.env.REDIS_CLUSTER_NODES;
      else process.env.REDIS_CLUSTER_NODES = before;
    }
    // An explicit choice wins over the environment.
    process.env.REDIS_CLUSTER_NODES = cluster.seeds;
    try {
      await using single = await startLocalStack({ gateways: 1, workers: 0, redis: "single" });
      expect(single.redisClusterNodes).toBe("");
      expect(single.redis?.url).toBe(single.redisUrl);
    } finally {
      if (before === undefined) delete process.env.REDIS_CLUSTER_NODES;
      else process.env.REDIS_CLUSTER_NODES = before;
    }
  }, 90_000);
});
