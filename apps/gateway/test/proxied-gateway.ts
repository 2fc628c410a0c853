import {
  type GatewayProcess,
  GatewayTestClient,
  type RedisServerHandle,
  signDevToken,
  startGatewayProcess,
  startRedisServer,
} from "@agentcast/testkit";
import { Redis } from "ioredis";
import { type RedisFaultProxy, startRedisFaultProxy } from "./redis-fault-proxy.js";

/**
 * A real redis-server, a real gateway process whose Redis traffic goes through a fault proxy, and a direct
 * connection for the test to set up and inspect state: what failed-starts and background-failures share.
 */
export interface ProxiedGateway {
  readonly redis: RedisServerHandle;
  readonly proxy: RedisFaultProxy;
  readonly gateway: GatewayProcess;
  /** To the redis-server itself, past the proxy. */
  readonly direct: Redis;
  /** A connected test client of `userId` (disconnected by `stop`). */
  client(userId: string): Promise<GatewayTestClient>;
  stop(): Promise<void>;
}

export async function startProxiedGateway(env: Record<string, string> = {}): Promise<ProxiedGateway> {
  const redis = await startRedisServer();
  const proxy = await startRedisFaultProxy(redis.port);
  const gateway = await startGatewayProcess({ redisUrl: proxy.url, env });
  const direct = new Redis(redis.url);
  const clients: GatewayTestClient[] = [];
  return {
    redis,
    proxy,
    gateway,
    direct,
    async client(userId) {
      const c = new GatewayTestClient({ url: gateway.url, token: await signDevToken(userId) });
      clients.push(c);
      await c.connect();
      return c;
    },
    async stop() {
      for (const c of clients) c.disconnect();
      direct.disconnect();
      await gateway.stop();
      await proxy.close();
      await redis[Symbol.asyncDispose]();
    },
  };
}
