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
