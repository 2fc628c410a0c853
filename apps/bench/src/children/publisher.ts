import { createKeys, EventPublisher } from "@agentcast/store";
import { Emitter } from "@socket.io/redis-emitter";
import { Redis } from "ioredis";
import { nowUs } from "../common/clock.js";
import { serveRpc } from "../common/ipc.js";
import { pace } from "../common/pacer.js";
import { eventData } from "../common/payload.js";

/**
 * A publisher in its own process. PUBLISHER=emitter: the stock `@socket.io/redis-emitter` (classic
 * PUBLISH). PUBLISHER=agentcast: the real `EventPublisher` (seq + XADD history + SPUBLISH in one
 * script), on a connection configured as the worker configures its own.
 */
export interface AgentcastTarget {
  taskId: string;
  runId: string;
  userId: string;
}

const kind = process.env.PUBLISHER ?? "emitter";
const redis = new Redis(process.env.REDIS_URL ?? "redis://127.0.0.1:6379", {
  maxRetriesPerRequest: 3,
  enableAutoPipelining: process.env.AUTOPIPELINE === "1",
  connectionName: `bench:${kind}`,
});
const emitter = new Emitter(redis);
const publisher = new EventPublisher(redis, {
  keys: createKeys("ac"),
  historyMaxLen: Number(process.env.HISTORY_MAX_LEN ?? 10_000),
  historyTtlSeconds: 3_600,
});

serveRpc({
  async publish(args: { rate: number; durationMs: number; targets: (string | AgentcastTarget)[]; random?: boolean; maxInFlight?: number }) {
    const counts = new Uint32Array(args.targets.length);
    const pick = (i: number) => (args.random ? Math.floor(Math.random() * args.targets.length) : i % args.targets.length);
    return pace({
      rate: args.rate,
      durationMs: args.durationMs,
      maxInFlight: args.maxInFlight ?? 4_096,
      send: (i) => {
        const t = pick(i);
        const n = (counts[t] ?? 0) + 1;
        counts[t] = n;
        const target = args.targets[t] as string | AgentcastTarget;
        const data = eventData(nowUs(), n);
        if (typeof target === "string") {
          emitter.to(target).emit("e", data);
          return undefined;
        }
        return publisher.publish({ ...target, type: "agent_output", data });
      },
    });
  },
});
