import { execFile } from "node:child_process";
import { rmSync } from "node:fs";
import { promisify } from "node:util";
import { Redis } from "ioredis";
import { freeClusterPorts, freePort } from "./free-port.js";
import { type RedisServerHandle, startRedisServer } from "./redis-server.js";
import { makeTestCertificates, type TestCertificates } from "./tls-certs.js";

const run = promisify(execFile);

export interface ClusterNodeHandle extends RedisServerHandle {
  /** `127.0.0.1:<port>`, as the cluster names it. */
  readonly address: string;
}

export interface RedisClusterHandle extends AsyncDisposable {
  /** Every node, masters and replicas, in the order they were started. */
  readonly nodes: readonly ClusterNodeHandle[];
  /** `host:port,host:port,…` of every node: give it to a process as REDIS_CLUSTER_NODES. */
  readonly seeds: string;
  /**
   * With `tls`: `rediss://localhost:<tls port>,…` of every node, for REDIS_CLUSTER_NODES, and the CA file
   * that signed the nodes' certificate (give it to a process as NODE_EXTRA_CA_CERTS).
   */
  readonly tls?: { readonly seeds: string; readonly caFile: string };
  /** The node serving `slot` as master now (asks a live node). */
  masterOf(slot: number): Promise<ClusterNodeHandle>;
  /** The current masters, each with the slot ranges it serves. */
  masters(): Promise<{ node: ClusterNodeHandle; slots: [number, number][] }[]>;
  /** The replicas of `master` now. */
  replicasOf(master: ClusterNodeHandle): Promise<ClusterNodeHandle[]>;
  /** Resolves once every live node reports `cluster_state:ok` and agrees on who serves every slot. */
  waitUntilHealthy(timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

export interface RedisClusterOptions {
  masters?: number;
  replicasPerMaster?: number;
  /** `cluster-node-timeout`: how long a node may be unreachable before its replica takes over (default 1000 ms). */
  nodeTimeoutMs?: number;
  bin?: string;
  cliBin?: string;
  /**
   * Also serve TLS on a second port per node, as a managed cluster with in-transit encryption does: the
   * nodes talk TLS among themselves (bus and replication), announce the hostname `localhost`, and their
   * certificate names `localhost` only (no IP address). Clients connecting over TLS are told TLS ports.
   * The testkit itself manages the cluster over the plain ports. Needs the `openssl` CLI.
   */
  tls?: boolean;
}

/**
 * A real Redis Cluster on loopback for tests: `masters` masters with `replicasPerMaster` replicas each
 * (default 3 + 3), every node a `redis-server --cluster-enabled yes` on a free port with AOF on, created with
 * `redis-cli --cluster create` and waited on until it is healthy. Disposing it kills every node.
 */
export async function startRedisCluster(opts: RedisClusterOptions = {}): Promise<RedisClusterHandle> {
  const masters = opts.masters ?? 3;
  const replicas = opts.replicasPerMaster ?? 1;
  const nodeTimeoutMs = opts.nodeTimeoutMs ?? 1_000;
  const ports = await freeClusterPorts(masters * (1 + replicas));
  const nodes: ClusterNodeHandle[] = [];
  let certs: TestCertificates | undefined;
  const tlsPorts: number[] = [];
  const stop = async () => {
    await Promise.all(nodes.map((n) => n[Symbol.asyncDispose]().catch(() => undefined)));
    if (certs) rmSync(certs.dir, { recursive: true, force: true });
  };
  try {
    if (opts.tls) {
      certs = await makeTestCertificates(["localhost"]);
      for (const _ of ports) tlsPorts.push(await freePort());
    }
    const tlsArgs = (i: number) =>
      certs
        ? [
            ...["--tls-port", String(tlsPorts[i]), "--tls-cluster", "yes", "--tls-replication", "yes", "--tls-auth-clients", "no"],
            ...["--tls-cert-file", certs.certFile, "--tls-key-file", certs.keyFile, "--tls-ca-cert-file", certs.caFile],
            ...["--cluster-announce-hostname", "localhost", "--cluster-preferred-endpoint-type", "hostname"],
          ]
        : [];
    const started = await Promise.all(
      ports.map((port, i) =>
        startRedisServer({
          port,
          ...(opts.bin ? { bin: opts.bin } : {}),
          args: [
            ...["--cluster-enabled", "yes", "--cluster-node-timeout", String(nodeTimeoutMs), "--cluster-require-full-coverage", "no"],
            ...tlsArgs(i),
          ],
        }),
      ),
    );
    for (const s of started) nodes.push(Object.assign(s, { address: `127.0.0.1:${s.port}` }));
    const cli = opts.cliBin ?? process.env.REDIS_CLI_BIN ?? "redis-cli";
    await run(cli, ["--cluster", "create", ...nodes.map((n) => n.address), "--cluster-replicas", String(replicas), "--cluster-yes"], {
      timeout: 30_000,
    });
  } catch (err) {
    await stop();
    throw err;
  }
  const byAddress = (address: string) => nodes.find((n) => n.address === address);
  /** CLUSTER SHARDS / NODES from one live node. */
  const topology = async () => {
    for (const node of nodes) {
      const client = new Redis(node.url, { lazyConnect: true, maxRetriesPerRequest: 0, connectTimeout: 1_000, commandTimeout: 2_000 });
      client.on("error", () => {}); // a node that is down: the next one is asked
      try {
        await client.connect();
        const text = (await client.call("CLUSTER", "NODES")) as string;
        return parseClusterNodes(text);
      } catch {
        // this node is down or paused: ask the next one
      } finally {
        client.disconnect();
      }
    }
    throw new Error("no cluster node answers");
  };
  const handle: RedisClusterHandle = {
    nodes,
    seeds: nodes.map((n) => n.address).join(","),
    ...(certs ? { tls: { seeds: tlsPorts.map((p) => `rediss://localhost:${p}`).join(","), caFile: certs.caFile } } : {}),
    async masterOf(slot) {
      for (const m of await handle.masters()) if (m.slots.some(([a, b]) => slot >= a && slot <= b)) return m.node;
      throw new Error(`no master serves slot ${slot}`);
    },
    async masters() {
      return (await topology())
        .filter((n) => n.flags.includes("master") && !n.flags.includes("fail") && !n.flags.includes("fail?") && n.slots.length > 0)
        .flatMap((n) => {
          const node = byAddress(n.address);
          return node ? [{ node, slots: n.slots }] : [];
        });
    },
    async replicasOf(master) {
      const all = await topology();
      const id = all.find((n) => n.address === master.address)?.id;
      return all.filter((n) => n.masterId === id && !n.flags.includes("fail")).flatMap((n) => byAddress(n.address) ?? []);
    },
    async waitUntilHealthy(timeoutMs = 30_000) {
      const deadline = Date.now() + timeoutMs;
      let last = "";
      while (Date.now() < deadline) {
        try {
          const all = await topology();
          const served = all.filter((n) => n.flags.includes("master") && !n.flags.includes("fail")).flatMap((n) => n.slots);
          const covered = served.reduce((sum, [a, b]) => sum + (b - a + 1), 0);
          const ok = await Promise.all(nodes.map((n) => clusterStateOk(n).catch(() => undefined)));
          // A replica that has not synced with its master yet would refuse to take over (its data is too old).
          const replicas = all.filter((n) => n.flags.includes("slave") && !n.flags.includes("fail") && !n.flags.includes("fail?"));
          const linked = await Promise.all(replicas.map((r) => replicaLinked(byAddress(r.address))));
          if (covered === 16_384 && ok.every((v) => v !== false) && linked.every(Boolean)) return;
          last = `covered ${covered} of 16384 slots; states ${JSON.stringify(ok)}; replicas linked ${JSON.stringify(linked)}`;
        } catch (err) {
          last = String(err);
        }
        await new Promise((r) => setTimeout(r, 100));
      }
      throw new Error(`cluster not healthy after ${timeoutMs} ms: ${last}`);
    },
    stop,
    [Symbol.asyncDispose]: stop,
  };
  await handle.waitUntilHealthy();
  return handle;
}

/** The replica's link to its master is up (it has synced). */
async function replicaLinked(node: ClusterNodeHandle | undefined): Promise<boolean> {
  if (!node) return true;
  const client = new Redis(node.url, { lazyConnect: true, maxRetriesPerRequest: 0, connectTimeout: 500, commandTimeout: 1_000 });
  client.on("error", () => {});
  try {
    await client.connect();
    return /master_link_status:up/.test((await client.call("INFO", "replication")) as string);
  } catch {
    return false;
  } finally {
    client.disconnect();
  }
}

/** true when the node says `cluster_state:ok`, false when it says otherwise, undefined when it is down (not asked). */
async function clusterStateOk(node: ClusterNodeHandle): Promise<boolean | undefined> {
  const client = new Redis(node.url, { lazyConnect: true, maxRetriesPerRequest: 0, connectTimeout: 500, commandTimeout: 1_000 });
  client.on("error", () => {});
  try {
    await client.connect();
  } catch {
    return undefined;
  }
  try {
    return /cluster_state:ok/.test((await client.call("CLUSTER", "INFO")) as string);
  } catch {
    return undefined;
  } finally {
    client.disconnect();
  }
}

interface ClusterNodeLine {
  id: string;
  address: string;
  flags: string[];
  masterId: string | undefined;
  slots: [number, number][];
}

/** Parses `CLUSTER NODES`: `<id> <ip:port@cport> <flags> <master> <ping> <pong> <epoch> <link> <slot> <slot>…`. */
export function parseClusterNodes(text: string): ClusterNodeLine[] {
  return text
    .trim()
    .split("\n")
    .map((line) => {
      const [id = "", addr = "", flags = "", master = "-", , , , , ...slots] = line.trim().split(" ");
      return {
        id,
        address: addr.split("@")[0] ?? addr,
        flags: flags.split(","),
        masterId: master === "-" ? undefined : master,
        slots: slots
          .filter((s) => !s.startsWith("["))
          .map((s) => {
            const [a, b] = s.split("-").map(Number);
            return [a as number, (b ?? a) as number];
          }),
      };
    });
}
