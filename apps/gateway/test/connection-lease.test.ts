// Issue 13 item 5: the per-user connection cap holds for as long as the connections do. Each gateway
// renews its leases every third of CONNECTION_LEASE_MS and the user's key with them (before the fix the
// key kept the TTL of the first connect and vanished after two leases, admitting a user over the cap);
// a dead gateway's leases lapse after one lease. Proven in seconds with a 1 s lease.
import { GatewayTestClient, signDevToken, startGatewayProcess, startRedisServer, until } from "@agentcast/testkit";
import { Redis } from "ioredis";
import { describe, expect, it } from "vitest";

const LEASE_MS = 1_000;

describe("CONNECTION_LEASE_MS", () => {
  it("a user at the cap stays at the cap past two leases; a killed gateway's connections lapse after one", async () => {
    await using redisServer = await startRedisServer();
    const env = { CONNECTION_LEASE_MS: String(LEASE_MS), MAX_CONNECTIONS_PER_USER: "2" };
    const holder = await startGatewayProcess({ redisUrl: redisServer.url, env });
    await using other = await startGatewayProcess({ redisUrl: redisServer.url, env });
    const redis = new Redis(redisServer.url);
    const key = "ac:user:{leased}:connections";
    const clients: GatewayTestClient[] = [];
    const client = async (url: string) => {
      const c = new GatewayTestClient({ url, token: await signDevToken("leased") });
      clients.push(c);
      return c;
    };
    try {
      const openedAt = Date.now();
      const first = await (await client(holder.url)).connect();
      await (await client(holder.url)).connect();
      // Wait for a renewal made after the key's first TTL (two leases) ran out: a lease of LEASE_MS that
      // ends 3 leases after the connect.
      const renewedUntil = await until(
        "a renewal of the lease beyond two leases",
        async () => {
          const score = Number(await redis.zscore(key, first.connectionId));
          return score >= openedAt + 3 * LEASE_MS && score <= Date.now() + LEASE_MS ? score : undefined;
        },
        10 * LEASE_MS,
        100,
      );
      expect(renewedUntil).toBeGreaterThanOrEqual(openedAt + 3 * LEASE_MS);
      expect(await redis.zcard(key)).toBe(2);
      expect(await redis.pttl(key)).toBeGreaterThan(LEASE_MS);
      const third = await (await client(other.url)).connectExpectingError();
      expect({ message: third.message, code: third.data?.code }).toEqual({ message: "limit_exceeded", code: "limit_exceeded" });

      // The holder dies without closing anything: its two leases lapse on their own within about one lease.
      await holder.kill();
      const killedAt = Date.now();
      const admitted = await until(
        "a connect admitted after the dead gateway's leases lapsed",
        async () => {
          const c = await client(other.url);
          const established = await c.connect().catch((err: Error & { data?: { code?: string } }) => {
            // Only the cap may refuse it (until the leases lapse); any other failure ends the wait.
            if (err.data?.code !== "limit_exceeded") throw err;
            return undefined;
          });
          if (!established) c.disconnect();
          return established;
        },
        10 * LEASE_MS,
        LEASE_MS / 4,
      );
      expect(admitted.userId).toBe("leased");
      expect(Date.now() - killedAt).toBeLessThan(5 * LEASE_MS);
    } finally {
      for (const c of clients) c.disconnect();
      redis.disconnect();
      await holder.kill().catch(() => {});
    }
  });
});
