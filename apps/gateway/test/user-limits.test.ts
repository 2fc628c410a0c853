// The per-user connection cap against a real Redis, from two clients at once (as two gateways would).
import { type RedisServerHandle, startRedisServer } from "@agentcast/testkit";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { UserLimits } from "../src/limits/user-limits.js";

let server: RedisServerHandle;
let a: Redis;
let b: Redis;

beforeAll(async () => {
  server = await startRedisServer();
  a = new Redis(server.url);
  b = new Redis(server.url);
});
afterAll(async () => {
  a?.disconnect();
  b?.disconnect();
  await server?.stop();
});

describe("UserLimits.openConnection", () => {
  it("admits exactly the cap when two gateways open connections for one user at the same moment", async () => {
    const prefix = `ul${Date.now()}`;
    const gatewayA = new UserLimits(a, prefix, 100, 3);
    const gatewayB = new UserLimits(b, prefix, 100, 3);
    const results = await Promise.all(Array.from({ length: 10 }, (_, i) => (i % 2 ? gatewayA : gatewayB).openConnection("alice", `c${i}`)));
    expect(results.filter(Boolean)).toHaveLength(3);
    expect(await a.zcard(`${prefix}:user:{alice}:connections`)).toBe(3);
    // A closed connection frees its place; an expired lease does too.
    const admitted = results.flatMap((ok, i) => (ok ? [`c${i}`] : []));
    await gatewayA.closeConnection("alice", admitted[0] as string);
    expect(await gatewayB.openConnection("alice", "c-next")).toBe(true);
    expect(await gatewayB.openConnection("alice", "c-over")).toBe(false);
    expect(await gatewayA.openConnection("alice", "c-later", Date.now() + 61_000)).toBe(true);
  });

  it("renewals keep the user's key alive beyond two leases: a user at the cap stays at the cap (issue 13 item 5)", async () => {
    const prefix = `ul${Date.now()}r`;
    const leaseMs = 1_000;
    const gateway = new UserLimits(a, prefix, 100, 2, leaseMs);
    const startedAt = Date.now();
    expect(await gateway.openConnection("bob", "c1")).toBe(true);
    expect(await gateway.openConnection("bob", "c2")).toBe(true);
    // Renew as a gateway does, every third of the lease, until the key's first TTL (two leases) is long past.
    while (Date.now() - startedAt < 2.5 * leaseMs) {
      await new Promise((resolve) => setTimeout(resolve, leaseMs / 3));
      await gateway.renew([
        ["bob", "c1"],
        ["bob", "c2"],
      ]);
    }
    expect(await a.zcard(`${prefix}:user:{bob}:connections`)).toBe(2);
    expect(await gateway.openConnection("bob", "c3")).toBe(false);
  });

  it("a renewal never brings back a released lease", async () => {
    const prefix = `ul${Date.now()}x`;
    const gateway = new UserLimits(a, prefix, 100, 2, 1_000);
    expect(await gateway.openConnection("carol", "c1")).toBe(true);
    await gateway.closeConnection("carol", "c1");
    expect(await gateway.renew([["carol", "c1"]])).toBe(0);
    expect(await a.exists(`${prefix}:user:{carol}:connections`)).toBe(0);
  });
});
