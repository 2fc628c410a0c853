import { type GatewayProcess, GatewayTestClient, type RedisServerHandle, startGatewayProcess, startRedisServer } from "@agentcast/testkit";
import { type CryptoKey, exportSPKI, generateKeyPair, SignJWT } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

/** A gateway configured with JWT_PUBLIC_KEY (and iss/aud), no JWT_SECRET. */
describe.each(["ES256", "RS256"] as const)("JWT_PUBLIC_KEY with %s", (alg) => {
  let redis: RedisServerHandle;
  let gateway: GatewayProcess;
  let privateKey: CryptoKey;
  let pem: string;

  beforeAll(async () => {
    const pair = await generateKeyPair(alg, { extractable: true });
    privateKey = pair.privateKey;
    pem = await exportSPKI(pair.publicKey);
    redis = await startRedisServer();
    gateway = await startGatewayProcess({
      redisUrl: redis.url,
      env: { JWT_SECRET: "", JWT_PUBLIC_KEY: pem, JWT_ISSUER: "https://issuer.test", JWT_AUDIENCE: "agentcast" },
    });
  });
  afterAll(async () => {
    await gateway?.stop();
    await redis?.[Symbol.asyncDispose]();
  });

  const sign = (claims: { iss?: string; aud?: string; sub?: string }, key: CryptoKey | Uint8Array = privateKey, header: string = alg) =>
    new SignJWT({})
      .setProtectedHeader({ alg: header })
      .setSubject(claims.sub ?? "kim")
      .setIssuer(claims.iss ?? "https://issuer.test")
      .setAudience(claims.aud ?? "agentcast")
      .setExpirationTime("5m")
      .sign(key);
  const attempt = async (token: string) => {
    const c = new GatewayTestClient({ url: gateway.url, token });
    try {
      return { ok: true, info: await c.connect() };
    } catch (err) {
      return { ok: false, code: (err as { data?: { code?: string } }).data?.code };
    } finally {
      c.disconnect();
    }
  };

  it("accepts a token signed with the matching private key, issuer and audience", async () => {
    expect(await attempt(await sign({}))).toMatchObject({ ok: true, info: { userId: "kim" } });
  });

  it("refuses a wrong issuer or audience", async () => {
    expect(await attempt(await sign({ iss: "https://evil.test" }))).toEqual({ ok: false, code: "token_invalid" });
    expect(await attempt(await sign({ aud: "someone-else" }))).toEqual({ ok: false, code: "token_invalid" });
  });

  it("refuses HS256 signed with the public key as the HMAC secret (algorithm confusion)", async () => {
    expect(await attempt(await sign({}, new TextEncoder().encode(pem), "HS256"))).toEqual({ ok: false, code: "token_invalid" });
  });

  it("refuses a token signed by another key pair", async () => {
    const other = await generateKeyPair(alg);
    expect(await attempt(await sign({}, other.privateKey))).toEqual({ ok: false, code: "token_invalid" });
  });
});
