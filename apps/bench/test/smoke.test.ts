import { describe, expect, it } from "vitest";
import { parseArgs } from "../src/cli/args.js";
import { defaultOptions } from "../src/cli/options.js";
import { runBench } from "../src/main.js";
import { formatTables } from "../src/report/table.js";
import { SYSTEM_LABELS } from "../src/systems/system.js";
import { TOKEN_SYSTEM_LABELS } from "../src/systems/token-systems.js";

describe("bench harness (reduced)", () => {
  it("one 500/s step per system: everything published is delivered once, one table row per system", { timeout: 90_000 }, async () => {
    const o = defaultOptions(true);
    o.scenarios = ["sweep"];
    o.sweep = { rates: [500], durationMs: 1_000, clients: 50, drainMs: 5_000 };
    o.outDir = "";
    const results = await runBench(o, () => {});
    expect(results.errors).toEqual([]);
    const steps = results.sweep?.steps ?? [];
    expect(steps.map((s) => s.system)).toEqual(["ws", "socketio", "agentcast"]);
    for (const s of steps) {
      expect(s.published).toBeGreaterThan(400);
      expect(s.delivered).toBe(s.published);
      expect(s.lost).toBe(0);
      expect(s.duplicates).toBe(0);
    }
    const table = formatTables(results).split(/Redis per node|Highest offered rate/)[0] ?? "";
    for (const system of ["ws", "socketio", "agentcast"] as const)
      expect(table.split("\n").filter((l) => l.startsWith(`| ${SYSTEM_LABELS[system]} | 500 |`))).toHaveLength(1);
  });

  it("--redis cluster: agentcast on one Redis and on a 3-master cluster in one run, the publish load spread over every master, pods isolated", {
    timeout: 180_000,
  }, async () => {
    const o = parseArgs(["--quick", "--redis", "cluster"]);
    expect(o.scenarios).toEqual(["sweep", "isolation"]);
    expect(o.systems).toEqual(["agentcast", "agentcast-cluster"]);
    o.sweep = { rates: [1_000], durationMs: 1_500, clients: 60, drainMs: 5_000 };
    o.isolation = { gateways: 3, clients: 90, rate: 600, durationMs: 1_500 };
    o.outDir = "";
    const results = await runBench(o, () => {});
    expect(results.errors).toEqual([]);
    const steps = results.sweep?.steps ?? [];
    expect(steps.map((s) => s.system)).toEqual(["agentcast", "agentcast-cluster"]);
    for (const s of steps) {
      expect(s.published).toBeGreaterThan(1_000);
      expect(s.delivered).toBe(s.published);
      expect(s.duplicates).toBe(0);
    }
    const [single, cluster] = steps;
    expect(single?.redis).toHaveLength(1);
    expect(single?.redis[0]?.publishShare).toBe(1);
    // 60 tasks hashed over 3 masters: each master takes some of the publishes, none takes them all.
    expect(cluster?.redis).toHaveLength(3);
    for (const node of cluster?.redis ?? []) {
      expect(node.publishShare).toBeGreaterThan(0.1);
      expect(node.publishShare).toBeLessThan(0.6);
      expect(node.cpuUsPerEvent).toBeGreaterThan(0);
    }
    // Each of 3 gateways receives about a third of the events on the cluster too, never all of them.
    const iso = results.isolation?.find((i) => i.system === "agentcast-cluster");
    expect(iso?.lost).toBe(0);
    expect(iso?.shares).toHaveLength(3);
    for (const share of iso?.shares ?? []) {
      expect(share).toBeGreaterThan(0.15);
      expect(share).toBeLessThan(0.55);
    }
    expect(formatTables(results)).toContain("share of publishes");
  });

  it("REDIS_CLUSTER_NODES puts the bench in cluster mode on that cluster, which must be on this machine", async () => {
    const o = parseArgs(["--quick"], { REDIS_CLUSTER_NODES: "127.0.0.1:7000,127.0.0.1:7001" });
    expect(o).toMatchObject({
      redis: "cluster",
      clusterNodes: "127.0.0.1:7000,127.0.0.1:7001",
      systems: ["agentcast", "agentcast-cluster"],
    });
    expect(() => parseArgs(["--redis", "single"], { REDIS_CLUSTER_NODES: "127.0.0.1:7000" })).toThrow(/unset one/);
    const remote = { ...o, clusterNodes: "10.1.2.3:6379", outDir: "" };
    await expect(runBench(remote, () => {})).rejects.toThrow(/only a cluster on this machine/);
  });

  it("--only llm: 20 token streams per system, every character delivered once and in order; coalescing sends fewer frames", {
    timeout: 180_000,
  }, async () => {
    const o = parseArgs(["--quick", "--only", "llm", "--streams", "20", "--tokens", "200"]);
    o.outDir = "";
    const results = await runBench(o, () => {});
    expect(results.errors).toEqual([]);
    const steps = results.llm?.steps ?? [];
    expect(steps.map((s) => s.system)).toEqual(["ws", "socketio", "agentcast", "agentcast-uncoalesced"]);
    for (const s of steps) {
      expect(s.expectedTokens).toBe(20 * 200);
      expect(s.tokens).toBe(s.expectedTokens);
      expect(s.lostChars).toBe(0);
      expect(s.duplicateTokens).toBe(0);
      expect(s.cpuUsPerToken).toBeGreaterThan(0);
    }
    const frames = (name: string) => steps.find((s) => s.system === name)?.framesPerStreamPerSec ?? Number.NaN;
    // One frame per token without coalescing (100 tokens/s); a 40 ms window merges about 4 tokens.
    expect(frames("agentcast-uncoalesced")).toBeGreaterThan(90);
    expect(frames("agentcast")).toBeLessThan(40);
    const table = formatTables(results);
    for (const label of Object.values(TOKEN_SYSTEM_LABELS)) expect(table).toContain(`| ${label} | 20 |`);
  });
});
