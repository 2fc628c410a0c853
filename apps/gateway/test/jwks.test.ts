// JWT_JWKS_URL: keys by `kid` from a JWKS endpoint (a real HTTP server of the test's own), cached,
// rotated, and never a way around the pinned algorithms.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { type GatewayProcess, GatewayTestClient, type RedisServerHandle, startGatewayProcess, startRedisServer } from "@agentcast/testkit";
import { type CryptoKey, exportJWK, exportSPKI, generateKeyPair, type JWK, SignJWT } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

interface Signer {
  kid: string;
  alg: "RS256" | "ES256";
  privateKey: CryptoKey;
  publicKey: CryptoKey;
  jwk: JWK;
}

async function signer(kid: string, alg: Signer["alg"]): Promise<Signer> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  return { kid, alg, privateKey, publicKey, jwk: { ...(await exportJWK(publicKey)), kid, alg, use: "sig" } };
}

describe("JWT_JWKS_URL", () => {
  let redis: RedisServerHandle;
  let gateway: GatewayProcess;
  let jwksServer: Server;
  let published: JWK[] = [];
  let fetches = 0;
  let k1: Signer;
  let k2: Signer;

  beforeAll(async () => {
    [k1, k2] = await Promise.all([signer("k1", "RS256"), signer("k2", "ES256")]);
    published = [k1.jwk];
    jwksServer = createServer((req, res) => {
      if (req.url !== "/.well-known/jwks.json") return void res.writeHead(404).end();
      fetches++;
      res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ keys: published }));
    });
    await new Promise<void>((r) => jwksServer.listen(0, "127.0.0.1", r));
    const url = `http://127.0.0.1:${(jwksServer.address() as AddressInfo).port}/.well-known/jwks.json`;
    redis = await startRedisServer();
    gateway = await startGatewayProcess({
      redisUrl: redis.url,
      env: { JWT_SECRET: "", JWT_JWKS_URL: url, JWT_JWKS_CACHE_SECONDS: "2", JWT_AUDIENCE: "agentcast" },
    });
  });
  afterAll(async () => {
    await gateway?.stop();
    await redis?.[Symbol.asyncDispose]();
    jwksServer?.close();
  });

  const sign = (s: Signer, sub = "jo", header: Record<string, unknown> = {}) =>
    new SignJWT({})
      .setProtectedHeader({ alg: s.alg, kid: s.kid, ...header })
      .setSubject(sub)
      .setAudience("agentcast")
      .setExpirationTime("5m")
      .sign(s.privateKey);
  const attempt = async (token: string) => {
    const c = new GatewayTestClient({ url: gateway.url, token });
    try {
      return { ok: true as const, userId: (await c.connect()).userId };
    } catch (err) {
      return { ok: false as const, code: (err as { data?: { code?: string } }).data?.code };
    } finally {
      c.disconnect();
    }
  };

  it("accepts a token whose kid is in the set, and fetches the set once for many connections", async () => {
    const before = fetches;
    const results = await Promise.all(Array.from({ length: 10 }, (_, i) => sign(k1, `user-${i}`).then(attempt)));
    expect(results.map((r) => r.ok && r.userId)).toEqual(Array.from({ length: 10 }, (_, i) => `user-${i}`));
    expect(fetches - before).toBeLessThanOrEqual(1);
    expect(fetches).toBe(1);
  });

  it("refuses a kid the set does not hold, then accepts it once the rotated set is fetched", async () => {
    expect(await attempt(await sign(k2))).toEqual({ ok: false, code: "token_invalid" });
    published = [k1.jwk, k2.jwk]; // the identity provider rotates in a new key
    await new Promise((r) => setTimeout(r, 2_200)); // past JWT_JWKS_CACHE_SECONDS (and the refetch cooldown)
    expect(await attempt(await sign(k2, "rotated"))).toEqual({ ok: true, userId: "rotated" });
    expect(fetches).toBeGreaterThanOrEqual(2);
  });

  it("no way around the pinned algorithms: HS256 signed with the public key, alg none, a wrong audience", async () => {
    const pemAsSecret = new TextEncoder().encode(await exportSPKI(k1.publicKey));
    const confused = await new SignJWT({})
      .setProtectedHeader({ alg: "HS256", kid: "k1" })
      .setSubject("mallory")
      .setAudience("agentcast")
      .setExpirationTime("5m")
      .sign(pemAsSecret);
    expect(await attempt(confused)).toEqual({ ok: false, code: "token_invalid" });
    const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString("base64url");
    const none = `${b64({ alg: "none", kid: "k1" })}.${b64({ sub: "mallory", aud: "agentcast", exp: Math.floor(Date.now() / 1000) + 300 })}.`;
    expect(await attempt(none)).toEqual({ ok: false, code: "token_invalid" });
    const wrongAudience = await new SignJWT({})
      .setProtectedHeader({ alg: "RS256", kid: "k1" })
      .setSubject("jo")
      .setAudience("someone-else")
      .setExpirationTime("5m")
      .sign(k1.privateKey);
    expect(await attempt(wrongAudience)).toEqual({ ok: false, code: "token_invalid" });
  });
});
