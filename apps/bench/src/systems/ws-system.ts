import { ChildRpc } from "../common/ipc.js";
import type { PaceResult } from "../common/pacer.js";
import type { PublishArgs, System, Target } from "./system.js";

/** Raw `ws` in one process, publishing in-process (the upper bound). */
export async function startWsSystem(): Promise<System> {
  const child = ChildRpc.start("ws-server");
  const port = await child.call<number>("port");
  return {
    name: "ws",
    protocol: "ws",
    urls: [`http://127.0.0.1:${port}`],
    serverPids: [child.pid],
    async targets(count, tag) {
      return Array.from({ length: count }, (_, i): Target => ({ name: `${tag}-${i}`, publish: `${tag}-${i}` }));
    },
    publish: (args: PublishArgs) =>
      child.call<PaceResult>("publish", { ...args, targets: args.targets.map((t) => t.name) }, args.durationMs + 60_000),
    heapUsed: async () => (await child.call<{ heapUsed: number }>("memory")).heapUsed,
    subscriberNames: () => [],
    redisNodes: [],
    kill: async () => {
      child.proc.kill("SIGKILL");
      await child.exited;
    },
    stop: () => child.stop(),
  };
}
