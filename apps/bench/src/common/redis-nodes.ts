import { Redis } from "ioredis";

/** One Redis node's counters at a moment: publish-script calls and CPU seconds (user + system). */
export interface NodeCounters {
  address: string;
  scriptCalls: number;
  cpuSeconds: number;
}

/** What one node did between two readings. */
export interface NodeLoad {
  address: string;
  /** Share of all script calls (the publish script) that ran on this node. */
  publishShare: number;
  /** Redis CPU per script call on this node, in µs (everything the node did, divided by its calls). */
  cpuUsPerEvent: number;
  /** Redis CPU of the node over the interval, as % of one core. */
  cpuPercent: number;
}

const withNode = async <T>(address: string, fn: (r: Redis) => Promise<T>): Promise<T> => {
  const [host, port] = address.split(":");
  const r = new Redis({ host: host ?? "127.0.0.1", port: Number(port), connectionName: "bench:admin", lazyConnect: true });
  try {
    await r.connect();
    return await fn(r);
  } finally {
    r.disconnect();
  }
};

/** INFO commandstats + cpu of each node (`host:port`): EVALSHA calls are the publish script (the bench runs no other). */
export function readNodeCounters(addresses: readonly string[]): Promise<NodeCounters[]> {
  return Promise.all(
    addresses.map((address) =>
      withNode(address, async (r) => {
        const stats = await r.info("commandstats");
        const cpu = await r.info("cpu");
        const num = (re: RegExp, text: string) => Number(re.exec(text)?.[1] ?? 0);
        return {
          address,
          scriptCalls: num(/cmdstat_evalsha:calls=(\d+)/, stats) + num(/cmdstat_eval:calls=(\d+)/, stats),
          cpuSeconds: num(/used_cpu_user:([\d.]+)/, cpu) + num(/used_cpu_sys:([\d.]+)/, cpu),
        };
      }),
    ),
  );
}

/** Each node's share of the publish load and its CPU per event between two readings `seconds` apart. */
export function nodeLoads(before: readonly NodeCounters[], after: readonly NodeCounters[], seconds: number): NodeLoad[] {
  const deltas = after.map((a) => {
    const b = before.find((x) => x.address === a.address);
    return { address: a.address, calls: a.scriptCalls - (b?.scriptCalls ?? 0), cpu: a.cpuSeconds - (b?.cpuSeconds ?? 0) };
  });
  const total = deltas.reduce((s, d) => s + d.calls, 0);
  return deltas.map((d) => ({
    address: d.address,
    publishShare: total > 0 ? d.calls / total : Number.NaN,
    cpuUsPerEvent: d.calls > 0 ? (d.cpu * 1e6) / d.calls : Number.NaN,
    cpuPercent: seconds > 0 ? (d.cpu / seconds) * 100 : Number.NaN,
  }));
}

/**
 * The TCP connections (client side `ip:port`, and the node's port) of every client named `name` on the
 * given nodes. A cluster client's sharded subscriber names itself `ioredis-cluster(ssubscriber):<name>`.
 */
export function connectionsNamed(
  addresses: readonly string[],
  names: readonly string[],
): Promise<Map<string, { addr: string; port: number }[]>> {
  return (async () => {
    const found = new Map<string, { addr: string; port: number }[]>(names.map((n) => [n, []]));
    for (const address of addresses) {
      const list = (await withNode(address, (r) => r.call("CLIENT", "LIST"))) as string;
      const port = Number(address.split(":")[1]);
      for (const line of list.split("\n")) {
        const name = / name=(\S*) /.exec(line)?.[1] ?? "";
        const addr = /addr=(\S+)/.exec(line)?.[1];
        const match = names.find((n) => name === n || name.endsWith(`):${n}`));
        if (match && addr) found.get(match)?.push({ addr, port });
      }
    }
    for (const [n, conns] of found) if (conns.length === 0) throw new Error(`no Redis client named ${n}`);
    return found;
  })();
}
