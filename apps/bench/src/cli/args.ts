import type { SystemName } from "../systems/system.js";
import { type BenchOptions, defaultOptions, SCENARIOS, type ScenarioName } from "./options.js";

const USAGE = `usage: npm run bench -- [--quick] [--only sweep|idle|isolation|storm|fanout|llm[,…]] [--rates 5000,10000]
                      [--systems ws,socketio,agentcast] [--duration ms] [--clients n] [--idle-counts 10000,18000]
                      [--streams 100,200,400] [--tokens n] [--redis single|cluster] [--out dir]
  --only llm: concurrent token streams (100 tokens/s of 4 bytes each, one client per stream over 2 servers);
              agentcast runs with coalescing on and off. --streams sets the steps, --tokens the tokens per stream.
  --redis cluster: agentcast on one Redis next to agentcast on a local Redis Cluster (3 masters + 3 replicas),
                   same run; sweep and isolation unless --only says otherwise, agentcast unless --systems does.
                   With env REDIS_CLUSTER_NODES (loopback seeds of a throwaway cluster) that cluster is used
                   instead of starting one, and --redis cluster is implied.`;

const list = (v: string | undefined, flag: string) => {
  if (!v) throw new Error(`${flag} needs a value\n${USAGE}`);
  return v
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
};
const positive = (v: string, flag: string) => {
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`${flag}: not a positive number: ${v}`);
  return n;
};

/** Parses the command line into options (quick or full defaults, then overrides). */
export function parseArgs(argv: string[], env: Record<string, string | undefined> = process.env): BenchOptions {
  const o = defaultOptions(argv.includes("--quick"));
  const givenCluster = env.REDIS_CLUSTER_NODES?.trim();
  if (givenCluster) {
    o.redis = "cluster";
    o.clusterNodes = givenCluster;
  }
  let onlyGiven = false;
  let systemsGiven = false;
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i] as string;
    const value = argv[i + 1];
    switch (flag) {
      case "--quick":
        break;
      case "--only":
        onlyGiven = true;
        o.scenarios = list(value, flag).map((s) => {
          if (!(SCENARIOS as readonly string[]).includes(s)) throw new Error(`unknown scenario ${s}\n${USAGE}`);
          return s as ScenarioName;
        });
        i++;
        break;
      case "--systems":
        systemsGiven = true;
        o.systems = list(value, flag).map((s) => {
          if (s !== "ws" && s !== "socketio" && s !== "agentcast") throw new Error(`unknown system ${s}\n${USAGE}`);
          return s as SystemName;
        });
        i++;
        break;
      case "--rates":
        o.sweep.rates = list(value, flag).map((r) => positive(r, flag));
        i++;
        break;
      case "--duration":
        o.sweep.durationMs = positive(value ?? "", flag);
        i++;
        break;
      case "--clients":
        o.sweep.clients = positive(value ?? "", flag);
        i++;
        break;
      case "--streams":
        o.llm.streams = list(value, flag).map((r) => positive(r, flag));
        i++;
        break;
      case "--tokens":
        o.llm.tokens = positive(value ?? "", flag);
        i++;
        break;
      case "--idle-counts":
        o.idle.counts = list(value, flag).map((r) => positive(r, flag));
        i++;
        break;
      case "--redis":
        if (value !== "single" && value !== "cluster") throw new Error(`--redis: single or cluster, not ${value ?? "nothing"}\n${USAGE}`);
        if (value === "single" && givenCluster) throw new Error("--redis single with REDIS_CLUSTER_NODES set: unset one");
        o.redis = value;
        i++;
        break;
      case "--out":
        o.outDir = value ?? "";
        i++;
        break;
      case "--help":
      case "-h":
        throw new Error(USAGE);
      default:
        throw new Error(`unknown flag ${flag}\n${USAGE}`);
    }
  }
  if (o.redis === "cluster") {
    if (!onlyGiven) o.scenarios = ["sweep", "isolation"];
    if (!systemsGiven) o.systems = ["agentcast"];
    o.systems = [...o.systems.filter((s) => s !== "agentcast-cluster"), "agentcast-cluster"];
  }
  return o;
}
