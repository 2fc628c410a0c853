import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import {
  freePort,
  type GatewayProcess,
  type RedisServerHandle,
  signDevToken,
  startGatewayProcess,
  startRedisServer,
  startWorkerProcess,
  type WorkerProcess,
} from "@agentcast/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const CLI = fileURLToPath(new URL("../bin/agentcast.mjs", import.meta.url));

function cli(args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, ...env } });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    child.on("exit", (code) => resolve({ code, stdout, stderr }));
  });
}

describe("agentcast CLI, end to end", () => {
  let redis: RedisServerHandle;
  let gateway: GatewayProcess;
  let worker: WorkerProcess;
  let token: string;
  beforeAll(async () => {
    redis = await startRedisServer();
    gateway = await startGatewayProcess({ redisUrl: redis.url });
    worker = await startWorkerProcess({ redisUrl: redis.url });
    token = await signDevToken("probe-user");
  });
  afterAll(async () => {
    await worker?.stop();
    await gateway?.stop();
    await redis?.[Symbol.asyncDispose]();
  });

  it("0: a healthy run passes, with the report table, JUnit and JSON", async () => {
    const dir = mkdtempSync(join(tmpdir(), "probe-"));
    const res = await cli(["probe", gateway.url, "--token", token, "--junit", join(dir, "out.xml")]);
    expect(res.code).toBe(0);
    expect(res.stdout).toContain("agentcast probe");
    expect(res.stdout).toContain("| agent_started present | ✅ pass |");
    const xml = readFileSync(join(dir, "out.xml"), "utf8");
    expect(xml).toContain('failures="0"');
    expect(xml).toContain('name="tool_completed present"');
    const json = await cli(["probe", gateway.url, "--token", token, "--json", "--message", "what is 2+2"]);
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout)).toMatchObject({ outcome: "ok", exitCode: 0, report: { ok: true } });
  });

  it("2: unreachable", async () => {
    const res = await cli(["probe", `http://127.0.0.1:${await freePort()}`, "--token", token, "--timeout", "2s"]);
    expect(res.code).toBe(2);
    expect(res.stdout).toContain("UNREACHABLE");
  });

  it("3: unauthorized", async () => {
    const res = await cli(["probe", gateway.url, "--token", await signDevToken("x", { secret: "wrong-secret-wrong-secret-0123456789" })]);
    expect(res.code).toBe(3);
    expect(res.stdout).toContain("token_invalid");
  });

  it("4: timeout (a run waiting on a question nobody answers)", async () => {
    const res = await cli(["probe", gateway.url, "--token", token, "--message", "/ask hello", "--timeout", "2s"]);
    expect(res.code).toBe(4);
    expect(res.stdout).toContain("TIMEOUT");
    expect(res.stdout).toContain("❌ FAIL"); // no terminal event: never shown as passed
  });

  it("5: invalid run (an expected event never came; a failed run)", async () => {
    const missing = await cli(["probe", gateway.url, "--token", token, "--expect", "agent_started,agent_question,agent_completed"]);
    expect(missing.code).toBe(5);
    expect(missing.stdout).toContain("| agent_question present | ❌ FAIL | never received |");
    const failed = await cli(["probe", gateway.url, "--token", token, "--message", "/fail", "--expect", "agent_started,agent_completed"]);
    expect(failed.code).toBe(5);
  });

  it("1: usage errors; token prints a JWT the gateway accepts", async () => {
    expect((await cli(["probe"])).code).toBe(1);
    expect((await cli(["probe", gateway.url, "--token", token, "--expect", "agent_dancing"])).code).toBe(1);
    const unsigned = await cli(["token", "--sub", "minted"], { JWT_SECRET: "" }); // no built-in secret
    expect(unsigned.code).toBe(1);
    expect(unsigned.stderr).toContain("token: --secret (or env JWT_SECRET) is required");
    const made = await cli(["token", "--sub", "minted", "--ttl", "5m"], {
      JWT_SECRET: "agentcast-dev-secret-not-for-production-0123456789",
    });
    expect(made.code).toBe(0);
    const probeWithMinted = await cli(["probe", gateway.url, "--token", made.stdout.trim(), "--message", "what is 3*3", "--json"]);
    expect(probeWithMinted.code).toBe(0);
  });
});
