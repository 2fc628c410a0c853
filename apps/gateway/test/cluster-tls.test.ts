// A Redis Cluster reached over TLS (issue 14: `rediss://` seeds), as a managed cluster with in-transit
// encryption is: every node serves TLS, announces a hostname, and its certificate names that hostname only
// (no IP address). The gateways and the worker get nothing but the TLS seeds and the CA
// (NODE_EXTRA_CA_CERTS), so every Redis connection they make is TLS; a run must stream end to end on it.
// A client that connects to the address a hostname resolves to fails to verify such a certificate: the
// stack did not start at all before connectRedis set ioredis' dnsLookup for TLS.
import { createClient } from "@agentcast/client";
import { type EventEnvelope, validateRunEvents } from "@agentcast/protocol";
import { type LocalStack, type RedisClusterHandle, signDevToken, startLocalStack, startRedisCluster } from "@agentcast/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

describe("Redis Cluster over TLS (rediss:// seeds, certificates that name hostnames only)", () => {
  let cluster: RedisClusterHandle;
  let stack: LocalStack;
  beforeAll(async () => {
    cluster = await startRedisCluster({ tls: true });
    const tls = cluster.tls as NonNullable<RedisClusterHandle["tls"]>;
    const env = { NODE_EXTRA_CA_CERTS: tls.caFile };
    stack = await startLocalStack({
      redisClusterNodes: tls.seeds,
      gateways: 2,
      workers: 1,
      gatewayEnv: env,
      workerEnv: { ...env, DEMO_STEP_MS: "20" },
    });
  }, 90_000);
  afterAll(async () => {
    await stack?.stop();
    await cluster?.stop();
  });

  it("the gateways are ready on TLS only, and a run streams to a client on the other gateway, complete and in order", async () => {
    for (const g of stack.gateways) {
      const ready = await fetch(`${g.url}/readyz`);
      expect(ready.status).toBe(200);
      expect(await ready.json()).toMatchObject({ ready: true, redis: true });
    }
    const sender = createClient({
      url: stack.gateways[0]?.url as string,
      getToken: () => signDevToken("tls-u"),
      transports: ["websocket"],
    });
    const watcher = createClient({
      url: stack.gateways[1]?.url as string,
      getToken: () => signDevToken("tls-u"),
      transports: ["websocket"],
    });
    try {
      const sent = await sender.send("/tools 3 what is 6*7");
      const seen: EventEnvelope[] = [];
      const handle = watcher.subscribe(sent.taskId);
      const done = new Promise<void>((resolve) =>
        handle.on("*", (e) => {
          seen.push(e);
          if (e.type === "agent_completed" || e.type === "agent_error") resolve();
        }),
      );
      await done;
      expect(seen.at(-1)?.type).toBe("agent_completed");
      expect(seen.map((e) => e.seq)).toEqual(seen.map((_, i) => i + 1));
      expect(validateRunEvents(seen)).toEqual([]);
    } finally {
      sender.close();
      watcher.close();
    }
  });
});
