import { ChildRpc } from "../common/ipc.js";
import type { PaceResult } from "../common/pacer.js";
import type { PublishArgs, System, SystemOptions, Target } from "./system.js";

/** Stock Socket.IO: `servers` processes; with more than one, the classic redis adapter and the stock emitter in a separate process. */
export async function startSocketIoSystem(opts: SystemOptions & { adapter?: boolean }): Promise<System> {
  const useRedis = opts.adapter ?? opts.servers > 1;
  const names = Array.from({ length: opts.servers }, (_, i) => `sio-${i + 1}`);
  const servers = names.map((name) =>
    ChildRpc.start("sio-server", { BENCH_NAME: name, ...(useRedis ? { REDIS_URL: opts.redisUrl } : {}) }),
  );
  const publisher = ChildRpc.start("publisher", { PUBLISHER: "emitter", REDIS_URL: opts.redisUrl, REDIS_CLUSTER_NODES: "" });
  const ports = await Promise.all(servers.map((s) => s.call<number>("port")));
  return {
    name: "socketio",
    protocol: "sio",
    urls: ports.map((p) => `http://127.0.0.1:${p}`),
    serverPids: servers.map((s) => s.pid),
    redisNodes: [new URL(opts.redisUrl).host],
    async targets(count, tag) {
      return Array.from({ length: count }, (_, i): Target => ({ name: `${tag}-${i}`, publish: `${tag}-${i}` }));
    },
    publish: (args: PublishArgs) =>
      publisher.call<PaceResult>("publish", { ...args, targets: args.targets.map((t) => t.name) }, args.durationMs + 60_000),
    heapUsed: async (i) => (await (servers[i] as ChildRpc).call<{ heapUsed: number }>("memory")).heapUsed,
    subscriberNames: () => (useRedis ? names.map((n) => `${n}:sub`) : []),
    kill: async (i) => {
      const s = servers[i] as ChildRpc;
      s.proc.kill("SIGKILL");
      await s.exited;
    },
    async stop() {
      await Promise.all([publisher, ...servers].map((c) => c.stop()));
    },
  };
}
