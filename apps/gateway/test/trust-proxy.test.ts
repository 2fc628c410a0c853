import { spawnSync } from "node:child_process";
import { GATEWAY_ENTRY, startGatewayProcess, startRedisServer } from "@agentcast/testkit";
import { describe, expect, it } from "vitest";
import { pollingHandshake } from "./raw-engine-io.js";

const BURST = 5;
const ATTEMPTS = 3 * BURST;

const printConfig = (env: Record<string, string>) => {
  const res = spawnSync(process.execPath, [GATEWAY_ENTRY, "--print-config"], {
    env: { PATH: process.env.PATH ?? "", JWT_SECRET: "s", ...env },
    encoding: "utf8",
    timeout: 10_000,
  });
  return {
    code: res.status,
    stderr: res.stderr,
    trustProxy: res.status === 0 ? (JSON.parse(res.stdout) as { TRUST_PROXY: unknown }).TRUST_PROXY : undefined,
  };
};

describe("TRUST_PROXY: the client is the address the outermost trusted proxy saw", () => {
  it.each([
    [{}, 0],
    [{ TRUST_PROXY: "false" }, 0],
    [{ TRUST_PROXY: "true" }, 1],
    [{ TRUST_PROXY: "0" }, 0],
    [{ TRUST_PROXY: "2" }, 2],
    [{ TRUST_PROXY: "10" }, 10],
  ])("%j → %d trusted hops in --print-config", (env, hops) => {
    expect(printConfig(env)).toMatchObject({ code: 0, trustProxy: hops });
  });

  it.each(["yes", "-1", "1.5", "11", "", " true2"])("TRUST_PROXY=%j fails at boot with a clear message", (v) => {
    const res = printConfig({ TRUST_PROXY: v });
    expect(res.code).toBe(1);
    expect(res.stderr).toContain("TRUST_PROXY: must be true (1 trusted proxy), false (none) or a number of trusted proxy hops 0-10");
  });

  /** Handshakes through a "proxy" (this test) that sends `forwarded(i)`: how many sessions opened. */
  const burst = async (url: string, forwarded: (i: number) => string) => {
    const results = await Promise.all(
      Array.from({ length: ATTEMPTS }, (_, i) =>
        pollingHandshake(url, "EIO=4&transport=polling", { headers: { "x-forwarded-for": forwarded(i) } }),
      ),
    );
    return results.filter((r) => r.sid !== undefined).length;
  };

  it("one hop (true): a client that forges X-Forwarded-For stays in its own per-IP bucket", async () => {
    await using redis = await startRedisServer();
    await using gw = await startGatewayProcess({
      redisUrl: redis.url,
      env: { TRUST_PROXY: "true", CONNECT_BURST_PER_IP: String(BURST), CONNECT_RATE_PER_IP_PER_SEC: "0.001" },
    });
    // The proxy appends the address it saw (198.51.100.7); everything left of it is the client's own text.
    expect(await burst(gw.url, (i) => `10.9.${i}.1, 198.51.100.7`)).toBe(BURST);
    // Another client behind the same proxy has a bucket of its own.
    expect(await burst(gw.url, (i) => `10.9.${i}.1, 198.51.100.8`)).toBe(BURST);
  });

  it("two hops: the entry the outer proxy appended is the client, not the inner proxy nor the forged ones", async () => {
    await using redis = await startRedisServer();
    await using gw = await startGatewayProcess({
      redisUrl: redis.url,
      env: { TRUST_PROXY: "2", CONNECT_BURST_PER_IP: String(BURST), CONNECT_RATE_PER_IP_PER_SEC: "0.001" },
    });
    // client → outer proxy (appends 203.0.113.5) → inner proxy (appends 10.0.0.254, the outer proxy) → gateway.
    expect(await burst(gw.url, (i) => `10.9.${i}.1, 203.0.113.5, 10.0.0.254`)).toBe(BURST);
    // Same inner proxy, same forged text, another client: not refused (so the inner proxy is not the key),
    // while the exhausted client's address, forged in front, does not spend its bucket either.
    expect(await burst(gw.url, () => "203.0.113.5, 203.0.113.6, 10.0.0.254")).toBe(BURST);
  });

  it("no proxy (false): X-Forwarded-For is ignored and the socket's address is the client", async () => {
    await using redis = await startRedisServer();
    await using gw = await startGatewayProcess({
      redisUrl: redis.url,
      env: { CONNECT_BURST_PER_IP: String(BURST), CONNECT_RATE_PER_IP_PER_SEC: "0.001" },
    });
    expect(await burst(gw.url, (i) => `10.9.${i}.1`)).toBe(BURST);
  });
});
