// The `cluster` profile of docker-compose.yml: six Redis nodes, the one-shot container that makes them a
// cluster, and the apps pointed at it with REDIS_CLUSTER_NODES. Checked offline like compose-file.test.ts, and
// the nodes' own command line and the init container's own script are run here on loopback (no Docker): they
// must form a 3 + 3 cluster, and a gateway and a worker with the profile's settings must serve a run on it.
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import type { EventEnvelope } from "@agentcast/protocol";
import {
  freeClusterPorts,
  GATEWAY_ENTRY,
  GatewayTestClient,
  parseClusterNodes,
  type RedisServerHandle,
  signDevToken,
  startGatewayProcess,
  startRedisServer,
  startWorkerProcess,
  validateRun,
  WORKER_ENTRY,
} from "@agentcast/testkit";
import { Redis } from "ioredis";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { COMPOSE_JWT_SECRET, effectiveConfig, GATEWAY_ENV, interpolate, read, SHUTDOWN_MARGIN_S, WORKER_ENV } from "./deploy/files.js";
import { must } from "./deploy/k8s.js";

const run = promisify(execFile);

interface Service {
  image?: string;
  build?: { context: string; target: string };
  profiles?: string[];
  command?: string[];
  environment?: Record<string, string>;
  depends_on?: Record<string, { condition: string }>;
  volumes?: string[];
  ports?: string[];
  networks?: string[] | Record<string, { aliases?: string[] } | null>;
  restart?: string;
  stop_grace_period?: string;
  healthcheck?: { test: string[] };
}

const compose = parse(read("docker-compose.yml")) as { services: Record<string, Service>; volumes: Record<string, unknown> };
const services = compose.services;
const named = (re: RegExp) => Object.keys(services).filter((n) => re.test(n));
const svc = (name: string) => must(services[name], `service ${name}`);
const NODES = named(/^redis-node-\d+$/);
const GATEWAYS = named(/^cluster-gateway-\d+$/);
const WORKERS = named(/^cluster-worker-\d+$/);
const INIT = svc("redis-cluster-init");
/** The init container's script (`sh -c <script>`), as compose hands it over (`$$` is a literal `$`). */
const initScript = () => {
  const [sh, flag, script] = INIT.command ?? [];
  expect([sh, flag]).toEqual(["sh", "-c"]);
  expect(script?.replace(/\$\$/g, "")).not.toContain("$"); // nothing left for compose to interpolate
  return (script ?? "").replace(/\$\$/g, "$");
};

describe("docker-compose.yml, profile cluster", () => {
  it("six Redis 7 nodes in cluster mode: noeviction, AOF, a volume each, their service name announced, a healthcheck", () => {
    expect(NODES).toHaveLength(6);
    const volumes = new Set<string>();
    for (const name of NODES) {
      const node = svc(name);
      expect(node.profiles, name).toEqual(["cluster"]);
      expect(node.image, name).toMatch(/^redis:7/);
      const cmd = (node.command ?? []).join(" ");
      expect(node.command?.[0]).toBe("redis-server");
      for (const arg of [
        "--cluster-enabled yes",
        "--maxmemory-policy noeviction",
        "--appendonly yes",
        "--cluster-preferred-endpoint-type hostname",
      ])
        expect(cmd, name).toContain(arg);
      // Clients (and MOVED replies) get the node's service name, which resolves on the compose network.
      expect(cmd, name).toContain(`--cluster-announce-hostname ${name}`);
      expect(node.healthcheck?.test).toEqual(["CMD", "redis-cli", "ping"]);
      const [volume, path] = (node.volumes?.[0] ?? "").split(":");
      expect(path, name).toBe("/data"); // where nodes.conf and the AOF live
      expect(Object.keys(compose.volumes)).toContain(volume);
      volumes.add(volume ?? "");
    }
    expect(volumes.size).toBe(6);
  });

  it("the init container waits for every node, then creates 3 masters + 3 replicas from exactly those nodes, once", () => {
    expect(INIT.profiles).toEqual(["cluster"]);
    expect(INIT.image).toBe(svc("redis-node-1").image);
    expect(Object.keys(INIT.depends_on ?? {}).sort()).toEqual([...NODES].sort());
    for (const dep of Object.values(INIT.depends_on ?? {})) expect(dep.condition).toBe("service_healthy");
    const create = /redis-cli --cluster create ((?:\S+:\d+ )+)--cluster-replicas 1 --cluster-yes/.exec(initScript());
    expect(create?.[1]?.trim().split(" ").sort()).toEqual(NODES.map((n) => `${n}:6379`).sort());
    expect(INIT.restart).toBe("on-failure"); // a one-shot: exits 0 and stays down
  });

  it("cluster gateways and workers: REDIS_CLUSTER_NODES naming every node, no REDIS_URL, valid config, one Redis section", () => {
    expect(GATEWAYS).toHaveLength(2);
    expect(WORKERS).toHaveLength(2);
    const configs: Record<string, unknown>[] = [];
    for (const name of [...GATEWAYS, ...WORKERS]) {
      const app = svc(name);
      const gateway = name.includes("gateway");
      expect(app.profiles, name).toEqual(["cluster"]);
      expect(app.build, name).toEqual({ context: ".", target: gateway ? "gateway" : "worker" });
      expect(app.depends_on, name).toEqual({ "redis-cluster-init": { condition: "service_completed_successfully" } });
      const env = app.environment ?? {};
      expect(
        Object.keys(env).filter((k) => !(gateway ? GATEWAY_ENV : WORKER_ENV).has(k)),
        name,
      ).toEqual([]);
      expect(env.REDIS_URL, name).toBeUndefined();
      expect(env.REDIS_CLUSTER_NODES?.split(",").sort(), name).toEqual(NODES.map((n) => `${n}:6379`).sort());
      const config = effectiveConfig(gateway ? GATEWAY_ENTRY : WORKER_ENTRY, interpolate(env));
      expect(config.redis, name).toBe(`cluster redis://${env.REDIS_CLUSTER_NODES}`);
      const drainMs = (gateway ? config.DRAIN_WINDOW_MS : config.WORKER_DRAIN_MS) as number;
      expect(seconds(app.stop_grace_period ?? "10s"), name).toBeGreaterThanOrEqual(drainMs / 1000 + SHUTDOWN_MARGIN_S);
      configs.push(config);
    }
    // Gateways and workers must agree on the Redis section (the queues they share are named by it).
    for (const key of ["redis", "REDIS_KEY_PREFIX", "HISTORY_TTL_SECONDS", "RUN_QUEUE_SHARDS"])
      expect(new Set(configs.map((c) => JSON.stringify(c[key]))).size, key).toBe(1);
    expect(new Set(configs.map((c) => c.GATEWAY_ID ?? c.WORKER_ID)).size).toBe(4);
    const shards = configs[0]?.RUN_QUEUE_SHARDS as number;
    expect(shards).toBeGreaterThan(1);
    // Each worker splits WORKER_CONCURRENCY evenly over the shards: a multiple, so the total is what it says.
    for (const c of configs.filter((x) => x.WORKER_CONCURRENCY !== undefined)) expect((c.WORKER_CONCURRENCY as number) % shards).toBe(0);
  });

  it("cluster-lb: the same nginx.conf, on a network where the names it balances over are the cluster gateways", () => {
    const lb = svc("cluster-lb");
    expect(lb.profiles).toEqual(["cluster"]);
    expect(lb.image).toBe(svc("lb").image);
    expect(lb.volumes).toEqual(svc("lb").volumes);
    expect(lb.ports).toEqual(["127.0.0.1:3002:3000"]);
    expect(lb.networks).toEqual(["cluster-lb"]); // not the default network, where gateway-1/2 are the single-Redis stack
    expect(Object.keys(lb.depends_on ?? {}).sort()).toEqual(GATEWAYS);
    const conf = read("deploy/nginx/nginx.conf").replace(/#.*$/gm, "");
    const upstreamNames = [...conf.matchAll(/server\s+([\w.-]+):\d+/g)].map((m) => m[1]);
    const aliases = GATEWAYS.flatMap((g) => {
      const nets = svc(g).networks as Record<string, { aliases?: string[] } | null>;
      expect(Object.keys(nets).sort(), g).toEqual(["cluster-lb", "default"]); // default: Redis and Prometheus
      return nets["cluster-lb"]?.aliases ?? [];
    });
    expect(aliases.sort()).toEqual(upstreamNames.sort());
  });

  it("the nodes' command line and the init script, run here on loopback, form a 3 + 3 cluster; a second run finds it formed; the profile's apps serve a run on it", async () => {
    const ports = await freeClusterPorts(6);
    const byName = new Map(NODES.map((n, i) => [n, ports[i] as number]));
    const local = (text: string) => text.replace(/(redis-node-\d+):6379/g, (_, n: string) => `localhost:${byName.get(n)}`);
    const nodes: RedisServerHandle[] = [];
    const processes: AsyncDisposable[] = [];
    try {
      for (const name of NODES) {
        const args = (svc(name).command ?? []).slice(1).map((a) => (a === name ? "localhost" : a));
        nodes.push(await startRedisServer({ port: byName.get(name) as number, args }));
      }
      const first = await run("sh", ["-c", local(initScript())], { timeout: 60_000 });
      expect(first.stdout).toContain("[OK] All 16384 slots covered");
      const topology = parseClusterNodes(await clusterNodesText(must(nodes[0], "a node").url));
      const masters = topology.filter((n) => n.flags.includes("master"));
      const replicas = topology.filter((n) => n.flags.includes("slave"));
      expect([masters.length, replicas.length]).toEqual([3, 3]);
      expect(new Set(replicas.map((r) => r.masterId))).toEqual(new Set(masters.map((m) => m.id)));
      // Nodes hand out their announced hostname, as the apps in compose will see it.
      expect(await clusterSlotsHosts(must(nodes[0], "a node").url)).toEqual(["localhost"]);

      const again = await run("sh", ["-c", local(initScript())], { timeout: 30_000 });
      expect(again.stdout.trim()).toBe("the cluster is formed already");

      // The run queues of RUN_QUEUE_SHARDS spread evenly over the masters of a cluster created this way.
      const gatewayEnv: Record<string, string> = {
        ...interpolate(svc("cluster-gateway-1").environment ?? {}),
        PORT: "0",
        METRICS_PORT: "0",
      };
      const shards = Number(gatewayEnv.RUN_QUEUE_SHARDS);
      const perMaster = await queuesPerMaster(must(nodes[0], "a node").url, shards, masters);
      expect(perMaster).toEqual(masters.map(() => shards / masters.length));

      const seeds = local(gatewayEnv.REDIS_CLUSTER_NODES ?? "");
      const gateway = await startGatewayProcess({ redisClusterNodes: seeds, env: { ...gatewayEnv, REDIS_CLUSTER_NODES: seeds } });
      processes.push(gateway);
      const workerEnv = interpolate(svc("cluster-worker-1").environment ?? {});
      processes.push(
        await startWorkerProcess({ redisClusterNodes: seeds, env: { ...workerEnv, REDIS_CLUSTER_NODES: seeds, METRICS_PORT: "0" } }),
      );
      const client = new GatewayTestClient({ url: gateway.url, token: await signDevToken("compose-user", { secret: COMPOSE_JWT_SECRET }) });
      try {
        await client.connect();
        const ack = await client.command("user_message", { text: "what is 2+3" });
        if (!ack.ok) throw new Error(JSON.stringify(ack));
        const events = await client.collectRun(ack.taskId);
        expect(validateRun(events, { userId: "compose-user" }).ok).toBe(true);
        expect((events.at(-1) as EventEnvelope).type).toBe("agent_completed");
      } finally {
        client.disconnect();
      }
    } finally {
      for (const p of processes.reverse()) await p[Symbol.asyncDispose]();
      await Promise.all(nodes.map((n) => n[Symbol.asyncDispose]()));
    }
  }, 120_000);
});

/** "1m30s" → 90. */
function seconds(duration: string): number {
  return [...duration.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h)/g)].reduce(
    (sum, [, n, unit]) => sum + Number(n) * { ms: 0.001, s: 1, m: 60, h: 3600 }[unit as "s"],
    0,
  );
}

async function withNode<T>(url: string, fn: (r: Redis) => Promise<T>): Promise<T> {
  const r = new Redis(url, { maxRetriesPerRequest: 1 });
  try {
    return await fn(r);
  } finally {
    r.disconnect();
  }
}

const clusterNodesText = (url: string) => withNode(url, async (r) => (await r.call("CLUSTER", "NODES")) as string);

/** The distinct host names clients are given by CLUSTER SLOTS. */
const clusterSlotsHosts = (url: string) =>
  withNode(url, async (r) => {
    const slots = (await r.call("CLUSTER", "SLOTS")) as [number, number, [string, number, ...unknown[]], ...unknown[]][];
    return [...new Set(slots.flatMap(([, , ...nodes]) => (nodes as [string][]).map(([host]) => host)))];
  });

/** How many of the run queues `{runs-0}`…`{runs-<shards-1>}` each master serves (a queue's keys share its hash tag). */
async function queuesPerMaster(url: string, shards: number, masters: ReturnType<typeof parseClusterNodes>): Promise<number[]> {
  const slots = await withNode(url, (r) =>
    Promise.all(Array.from({ length: shards }, (_, i) => r.call("CLUSTER", "KEYSLOT", `ac:bull:{runs-${i}}:wait`) as Promise<number>)),
  );
  return masters.map((m) => slots.filter((s) => m.slots.some(([a, b]) => s >= a && s <= b)).length);
}
