import { connectRedis, createKeys, EventPublisher, redisTargetOf } from "@agentcast/store";
import { Emitter } from "@socket.io/redis-emitter";
import { Redis } from "ioredis";
import { nowUs, sleep } from "../common/clock.js";
import { serveRpc } from "../common/ipc.js";
import { pace } from "../common/pacer.js";
import { eventData } from "../common/payload.js";
import { streamTokens, type TokenSchedule } from "../common/tokens.js";

/**
 * A publisher in its own process. PUBLISHER=emitter: the stock `@socket.io/redis-emitter` (classic
 * PUBLISH). PUBLISHER=agentcast: the real `EventPublisher` (seq + XADD history + SPUBLISH in one
 * script), on a connection configured as the worker configures its own — to one node (REDIS_URL) or to a
 * Redis Cluster (REDIS_CLUSTER_NODES).
 */
export interface AgentcastTarget {
  taskId: string;
  runId: string;
  userId: string;
}

const kind = process.env.PUBLISHER ?? "emitter";
const redisTarget = redisTargetOf({
  REDIS_URL: process.env.REDIS_URL || undefined,
  REDIS_CLUSTER_NODES: process.env.REDIS_CLUSTER_NODES || undefined,
  REDIS_USERNAME: undefined,
  REDIS_PASSWORD: undefined,
});
const redis = connectRedis(redisTarget, "commands", { name: `bench:${kind}`, autoPipelining: process.env.AUTOPIPELINE === "1" });
// The stock emitter speaks to one node (the Socket.IO system never runs on the cluster).
const emitter = redis instanceof Redis ? new Emitter(redis) : undefined;
const publisher = new EventPublisher(redis, {
  keys: createKeys("ac"),
  historyMaxLen: Number(process.env.HISTORY_MAX_LEN ?? 10_000),
  historyTtlSeconds: 3_600,
});

serveRpc({
  /** The `llm` scenario, stock Socket.IO as teams write it by hand: one `emitter.to(room).emit` per token. */
  async streamTokens(args: { rooms: string[]; schedules: TokenSchedule[] }) {
    if (!emitter) throw new Error("the stock emitter needs REDIS_URL");
    const e = emitter;
    await Promise.all(
      args.rooms.map((room, s) =>
        streamTokens(
          args.schedules[s] as TokenSchedule,
          (token) => {
            e.to(room).emit("e", { delta: token });
            return undefined;
          },
          sleep,
        ),
      ),
    );
    return true;
  },
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
          if (!emitter) throw new Error("the stock emitter needs REDIS_URL");
          emitter.to(target).emit("e", data);
          return undefined;
        }
        return publisher.publish({ ...target, type: "agent_output", data });
      },
    });
  },
});
