// `npm start` (scripts/start-local-stack.mjs) on a machine without Redis, with contradictory settings, and
// with a Redis already answering where it looks. The script runs as a real child process.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { finishChunk, freePort, GatewayTestClient, startFakeLlm, startRedisServer, textChunks } from "@agentcast/testkit";
import { Redis } from "ioredis";
import { afterAll, describe, expect, it } from "vitest";
import { runStartScript, type StartScript } from "./start-script.js";

const INSTALL = "install Redis 7 (apt-get install redis-server, brew install redis) or set REDIS_URL / REDIS_CLUSTER_NODES";

describe("npm start: what it needs, in one line", () => {
  // A PATH with nothing on it: no redis-server, no redis-cli (the script runs on this node by its full path).
  const emptyBin = mkdtempSync(join(tmpdir(), "agentcast-empty-path-"));
  const started: StartScript[] = [];
  const run = (env: Record<string, string>) => {
    const s = runStartScript({ PATH: emptyBin, HOME: tmpdir(), ...env }, { cleanEnv: true });
    started.push(s);
    return s;
  };
  afterAll(() => {
    for (const s of started) s.killAll();
    rmSync(emptyBin, { recursive: true, force: true });
  });

  /** The script's exit and everything it printed, bounded. */
  const finished = async (s: StartScript) => {
    const timer = setTimeout(() => s.killAll(), 15_000);
    const exit = await s.exited;
    clearTimeout(timer);
    return { ...exit, lines: s.output().trimEnd().split("\n") };
  };

  it("no redis-server on the PATH and no Redis on the probed address: one line saying what to install, exit 1", async () => {
    // A port nothing listens on (taken and released), so the machine's own 6379 plays no part.
    const probe = `127.0.0.1:${await freePort()}`;
    const r = await finished(run({ REDIS_PROBE_ADDRESS: probe }));
    expect(r.lines).toEqual([`npm start: redis-server not found and no Redis answers on ${probe}: ${INSTALL}`]);
    expect(r.code).toBe(1);
  });

  it("REDIS_MODE=cluster without redis-server: one line, exit 1", async () => {
    const r = await finished(run({ REDIS_MODE: "cluster" }));
    expect(r.lines).toEqual([`npm start: redis-server not found (REDIS_MODE=cluster needs redis-server and redis-cli): ${INSTALL}`]);
    expect(r.code).toBe(1);
  });

  it.each([
    [
      { REDIS_URL: "redis://127.0.0.1:1", REDIS_CLUSTER_NODES: "127.0.0.1:2" },
      "set REDIS_URL (one Redis node) or REDIS_CLUSTER_NODES (a Redis Cluster), not both",
    ],
    [
      { REDIS_URL: "redis://127.0.0.1:1", REDIS_MODE: "cluster" },
      "REDIS_MODE=cluster starts a local cluster: unset REDIS_URL, or set REDIS_CLUSTER_NODES to use yours",
    ],
    [{ REDIS_MODE: "sentinel" }, 'REDIS_MODE must be "single" or "cluster", not "sentinel"'],
    [{ REDIS_PROBE_ADDRESS: "localhost" }, 'REDIS_PROBE_ADDRESS must be host:port, not "localhost"'],
  ])("contradictory or bad settings %j: one line, exit 1", async (env, message) => {
    const r = await finished(run(env));
    expect(r.lines).toEqual([`npm start: ${message}`]);
    expect(r.code).toBe(1);
  });
});

describe("npm start: a Redis answering on the probed address is used", () => {
  it("uses it instead of starting one, and leaves it running on Ctrl-C", async () => {
    await using redis = await startRedisServer();
    const s = runStartScript({ REDIS_PROBE_ADDRESS: `127.0.0.1:${redis.port}` });
    try {
      const printed = await s.started(60_000);
      expect(printed.redis).toBe(redis.url); // not "(started for this stack)"
      expect(printed.agent).toMatch(/^demo \(LLM_BASE_URL \+ LLM_MODEL run a real model/);
      expect((await fetch(`${printed.url}/readyz`)).status).toBe(200);
      expect(await s.interrupt(30_000)).toEqual({ code: 0, signal: null });
      const client = new Redis(redis.url);
      try {
        expect(await client.ping()).toBe("PONG");
      } finally {
        client.disconnect();
      }
    } finally {
      s.killAll();
    }
  });
});

describe("npm start with LLM_BASE_URL: the LLM agent", () => {
  it("says so, and a message gets the provider's streamed answer", async () => {
    await using redis = await startRedisServer();
    await using llm = await startFakeLlm(() => ({ stream: [...textChunks("Hello from the model."), finishChunk("stop")] }));
    const s = runStartScript({ REDIS_PROBE_ADDRESS: `127.0.0.1:${redis.port}`, LLM_BASE_URL: llm.url, LLM_MODEL: "fake-model" });
    try {
      const printed = await s.started(60_000);
      expect(printed.agent).toBe(`llm: fake-model at ${llm.url}`);
      await using client = new GatewayTestClient({ url: printed.url, token: printed.token });
      await client.connect();
      const ack = await client.command("user_message", { text: "hi" });
      if (!ack.ok) throw new Error(JSON.stringify(ack));
      const run = await client.collectRun(ack.taskId);
      expect(run.map((e) => (e.type === "agent_output" ? e.data.delta : "")).join("")).toBe("Hello from the model.");
      expect(llm.requests[0]?.body.model).toBe("fake-model");
      expect(await s.interrupt(30_000)).toEqual({ code: 0, signal: null });
    } finally {
      s.killAll();
    }
  });
});
