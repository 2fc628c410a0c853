import { type EventEnvelope, RUN_RULE_NAMES, type RunRule, validateRunEvents } from "@agentcast/protocol";
import { describe, expect, it } from "vitest";
import { formatReport } from "./format-report.js";
import { validateRun } from "./validate-run.js";

const mk = (specs: [string, unknown][], over: (i: number) => Partial<EventEnvelope> = () => ({})): EventEnvelope[] =>
  specs.map(
    ([type, data], i) =>
      ({ v: 1, id: `e${i}`, seq: i + 1, type, taskId: "t_1", runId: "r_1", userId: "u1", ts: 1, data, ...over(i) }) as EventEnvelope,
  );
const good: [string, unknown][] = [
  ["agent_started", { input: "x" }],
  ["agent_thinking", { text: "hm" }],
  ["tool_executing", { toolCallId: "a", tool: "calc", args: {} }],
  ["tool_completed", { toolCallId: "a", tool: "calc", ok: true, result: 1, durationMs: 2 }],
  ["progress_update", { percent: 100, message: "" }],
  ["agent_completed", { status: "succeeded" }],
];
const status = (events: EventEnvelope[], name: string, opts = {}) =>
  validateRun(events, opts).checks.find((c) => c.name.startsWith(name))?.status;
const failedRules = (events: EventEnvelope[]) =>
  validateRun(events)
    .checks.filter((c) => c.status === "fail")
    .map((c) => c.rule);
const before = good.slice(0, 2);
const after = good.slice(4);

describe("validateRun", () => {
  it("passes a complete run, with one check for every protocol run rule", () => {
    const report = validateRun(mk(good), { userId: "u1" });
    expect(report.ok).toBe(true);
    expect(report.checks.every((c) => c.status === "pass")).toBe(true);
    expect(report.checks.flatMap((c) => (c.rule ? [c.rule] : [])).sort()).toEqual([...RUN_RULE_NAMES].sort());
  });

  it("catches a run missing tool_completed", () => {
    const events = mk(good.filter(([t]) => t !== "tool_completed"));
    const report = validateRun(events);
    expect(report.ok).toBe(false);
    expect(status(events, "tool_completed present")).toBe("fail");
    expect(status(events, "every tool_executing")).toBe("fail");
  });

  it("catches out-of-order and duplicated seq", () => {
    const swapped = mk(good);
    [swapped[2], swapped[3]] = [swapped[3] as EventEnvelope, swapped[2] as EventEnvelope];
    expect(validateRun(swapped).ok).toBe(false);
    expect(status(swapped, "seq")).toBe("fail");
    const dup = mk(good);
    dup.splice(2, 0, dup[1] as EventEnvelope);
    expect(status(dup, "seq")).toBe("fail");
  });

  it("expectStatus: a cancelled or failed run fails unless its status is expected", () => {
    const cancelled = mk(good.map(([t, d]) => (t === "agent_completed" ? [t, { status: "cancelled" }] : [t, d])));
    expect(validateRun(cancelled).ok).toBe(true); // not asked: not checked
    expect(validateRun(cancelled, { expectStatus: ["succeeded"] }).ok).toBe(false);
    expect(status(cancelled, "run ended", { expectStatus: ["succeeded"] })).toBe("fail");
    expect(status(cancelled, "run ended", { expectStatus: ["succeeded", "cancelled"] })).toBe("pass");
    const failed = mk([...good.slice(0, -1), ["agent_error", { code: "boom", message: "x", retryable: false }]]);
    expect(status(failed, "run ended", { expectStatus: ["succeeded"] })).toBe("fail");
    expect(status(mk(good.slice(0, -1)), "run ended", { expectStatus: ["succeeded"] })).toBe("not_observed");
  });

  it("a whole run of another user fails when userId is given (and passes unnoticed when it is not)", () => {
    const theirs = mk(good, () => ({ userId: "mallory" }));
    expect(status(theirs, "no other user's", { userId: "u1" })).toBe("fail");
    expect(status(theirs, "no other user's")).toBe("pass");
  });

  it("catches a foreign user's event", () => {
    const events = mk(good, (i) => (i === 4 ? { userId: "mallory" } : {}));
    expect(validateRun(events, { userId: "u1" }).ok).toBe(false);
    expect(status(events, "no other user", { userId: "u1" })).toBe("fail");
  });

  it("catches decreasing progress, a second terminal and a bad payload", () => {
    expect(
      status(
        mk([
          ...good.slice(0, 4),
          ["progress_update", { percent: 50, message: "" }],
          ["progress_update", { percent: 40, message: "" }],
          ["agent_completed", { status: "succeeded" }],
        ]),
        "progress",
      ),
    ).toBe("fail");
    expect(status(mk([...good, ["agent_error", { code: "x", message: "y", retryable: false }]]), "exactly one terminal")).toBe("fail");
    expect(status(mk([...good.slice(0, 5), ["agent_completed", { status: "maybe" }]]), "payloads")).toBe("fail");
  });

  // Runs the protocol's rules reject; the names say what slipped through when validateRun re-implemented them.
  it.each<[string, [string, unknown][], RunRule]>([
    [
      "a tool_completed naming another tool",
      [
        ...before,
        ["tool_executing", { toolCallId: "a", tool: "calc", args: {} }],
        ["tool_completed", { toolCallId: "a", tool: "search", ok: true, durationMs: 1 }],
        ...after,
      ],
      "tool_pairing",
    ],
    [
      "a toolCallId used again after it completed",
      [
        ...good.slice(0, 4),
        ["tool_executing", { toolCallId: "a", tool: "calc", args: {} }],
        ["tool_completed", { toolCallId: "a", tool: "calc", ok: true, durationMs: 1 }],
        ...after,
      ],
      "tool_pairing",
    ],
    ["an event after the terminal", [...good, ["agent_output", { delta: "late" }]], "terminal"],
    ["agent_started twice", [good[0] as [string, unknown], ...good], "order"],
    ["progress over 100", [...good.slice(0, 4), ["progress_update", { percent: 101, message: "" }], ...good.slice(5)], "progress"],
    ["an unknown event type", [...good.slice(0, 5), ["agent_dancing", {}], ...good.slice(5)], "schema"],
  ])("fails a run the protocol's rules reject, under the same rule: %s", (_name, specs, rule) => {
    const events = mk(specs);
    expect(validateRun(events).ok).toBe(false);
    expect(validateRunEvents(events).map((v) => v.rule)).toEqual([rule]);
    expect(failedRules(events)).toEqual([rule]);
    expect(validateRun(events).violations.map((v) => v.rule)).toEqual([rule]);
  });

  it("says not observed — never pass — for what the run did not show, and the table is honest", () => {
    const events = mk([
      ["agent_started", { input: "x" }],
      ["agent_completed", { status: "succeeded" }],
    ]);
    const report = validateRun(events, { required: ["agent_started", "agent_completed"] });
    expect(report.ok).toBe(true);
    expect(status(events, "every tool_executing")).toBe("not_observed");
    expect(status(events, "progress")).toBe("not_observed");
    const table = formatReport(report);
    expect(table).toContain("| every tool_executing has one tool_completed | ➖ not observed |");
    expect(table).not.toMatch(/tool_completed \| ✅/);
    expect(formatReport(validateRun([]))).toContain("FAIL");
  });
});
