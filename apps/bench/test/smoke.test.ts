import { describe, expect, it } from "vitest";
import { defaultOptions } from "../src/cli/options.js";
import { runBench } from "../src/main.js";
import { formatTables } from "../src/report/table.js";
import { SYSTEM_LABELS } from "../src/systems/system.js";

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
    const table = formatTables(results).split("Highest offered rate")[0] ?? "";
    for (const label of Object.values(SYSTEM_LABELS))
      expect(table.split("\n").filter((l) => l.startsWith(`| ${label} | 500 |`))).toHaveLength(1);
  });
});
