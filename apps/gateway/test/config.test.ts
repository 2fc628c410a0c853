import { spawnSync } from "node:child_process";
import { GATEWAY_ENTRY, WORKER_ENTRY } from "@agentcast/testkit";
import { describe, expect, it } from "vitest";

const run = (entry: string, env: Record<string, string>, args: string[] = []) => {
  const res = spawnSync(process.execPath, [entry, ...args], {
    env: { PATH: process.env.PATH ?? "", REDIS_URL: "redis://127.0.0.1:1", ...env },
    encoding: "utf8",
    timeout: 10_000,
  });
  return { code: res.status, stderr: res.stderr, stdout: res.stdout };
};

describe("invalid configuration fails at boot, naming the variable", () => {
  it.each([
    [{}, "JWT_SECRET"],
    [{ JWT_SECRET: "s", PORT: "abc" }, "PORT"],
    [{ JWT_SECRET: "s", PORT: "70000" }, "PORT"],
    [{ JWT_SECRET: "s", REDIS_URL: "http://x" }, "REDIS_URL"],
    [{ JWT_SECRET: "s", METRICS_PORT: "-1" }, "METRICS_PORT"],
    [{ JWT_SECRET: "s", LOG_LEVEL: "loud" }, "LOG_LEVEL"],
    [{ JWT_JWKS_URL: "ftp://idp.test/jwks" }, "JWT_JWKS_URL"],
  ])("gateway %j → %s", (env, variable) => {
    const res = run(GATEWAY_ENTRY, env as Record<string, string>);
    expect(res.code).toBe(1);
    expect(res.stderr).toContain(`${variable}:`);
  });

  it("gateway JWT_PUBLIC_KEY must be a PEM public key", () => {
    const res = run(GATEWAY_ENTRY, { JWT_PUBLIC_KEY: "not a pem" });
    expect(res.code).toBe(1);
    expect(res.stderr + res.stdout).toContain("JWT_PUBLIC_KEY");
  });

  it.each([
    [{ AGENT: "nope" }, "AGENT"],
    [{ WORKER_CONCURRENCY: "0" }, "WORKER_CONCURRENCY"],
    [{ DEMO_STEP_MS: "fast" }, "DEMO_STEP_MS"],
    [{ AGENT_MODULE: "/nonexistent/agent.mjs" }, "AGENT_MODULE"],
    [{ AGENT_MODULE: "../../package.json" }, "AGENT_MODULE"],
    [{ METRICS_PORT: "x" }, "METRICS_PORT"],
  ])("worker %j → %s", (env, variable) => {
    const res = run(WORKER_ENTRY, env as Record<string, string>);
    expect(res.code).toBe(1);
    expect(res.stderr).toContain(`${variable}:`);
  });

  it("--print-config prints the resolved config with secrets redacted", () => {
    const res = run(GATEWAY_ENTRY, { JWT_SECRET: "super-secret-value" }, ["--print-config"]);
    expect(res.code).toBe(0);
    const printed = JSON.parse(res.stdout);
    expect(printed).toMatchObject({ PORT: 3000, METRICS_PORT: 9464, JWT_SECRET: "<set>" });
    expect(res.stdout).not.toContain("super-secret-value");
  });
});

describe("Redis: one node or a cluster, one shared section", () => {
  const bothMessage = "set REDIS_URL (one Redis node) or REDIS_CLUSTER_NODES (a Redis Cluster), not both";
  it.each([
    ["gateway", GATEWAY_ENTRY, { JWT_SECRET: "s" }],
    ["worker", WORKER_ENTRY, {}],
  ])("%s: REDIS_URL and REDIS_CLUSTER_NODES together is a config error with a clear message", (_app, entry, env) => {
    const res = run(entry, { ...env, REDIS_URL: "redis://10.0.0.1:6379", REDIS_CLUSTER_NODES: "10.0.0.1:7000" });
    expect(res.code).toBe(1);
    expect(res.stderr).toContain(`REDIS_CLUSTER_NODES: ${bothMessage}`);
  });

  it.each([
    ["10.0.0.1", '"10.0.0.1" is not host:port'],
    ["10.0.0.1:7000,rediss://10.0.0.2:7000", "use one scheme for every seed"],
    ["10.0.0.1:99999", '"10.0.0.1:99999" is not host:port'],
    [" , ", "list at least one seed node, host:port"],
  ])("REDIS_CLUSTER_NODES %j is refused: %s", (seeds, message) => {
    const res = run(WORKER_ENTRY, { REDIS_URL: "", REDIS_CLUSTER_NODES: seeds });
    expect(res.code).toBe(1);
    expect(res.stderr).toContain(message);
  });

  it.each([
    ["gateway", GATEWAY_ENTRY, { JWT_SECRET: "s" }],
    ["worker", WORKER_ENTRY, {}],
  ])("%s --print-config says where Redis is, never a password", (_app, entry, env) => {
    const cluster = run(
      entry,
      { ...env, REDIS_URL: "", REDIS_CLUSTER_NODES: "rediss://r1.internal:7000,rediss://r2.internal:7001", REDIS_PASSWORD: "pw-123" },
      ["--print-config"],
    );
    expect(cluster.code).toBe(0);
    expect(JSON.parse(cluster.stdout)).toMatchObject({
      redis: "cluster rediss://r1.internal:7000,r2.internal:7001",
      REDIS_PASSWORD: "<set>",
      RUN_QUEUE_SHARDS: 1,
    });
    const single = run(entry, { ...env, REDIS_URL: "redis://app:pw-456@redis.internal:6379" }, ["--print-config"]);
    expect(JSON.parse(single.stdout)).toMatchObject({ redis: "redis://<credentials>@redis.internal:6379" });
    expect(cluster.stdout + single.stdout).not.toMatch(/pw-123|pw-456/);
  });
});
