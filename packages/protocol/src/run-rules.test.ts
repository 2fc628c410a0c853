import { describe, expect, it } from "vitest";
import type { EventEnvelope } from "./events.js";
import { RUN_RULE_NAMES, RUN_RULES, type RunRule, RunRules, validateRunEvents } from "./run-rules.js";

let seq = 0;
const ev = (type: string, data: unknown, over: Partial<EventEnvelope> = {}): EventEnvelope =>
  ({ v: 1, id: `e${++seq}`, seq, type, taskId: "t_1", runId: "r_1", userId: "u", ts: 1, data, ...over }) as EventEnvelope;
const run = (...events: [string, unknown][]) => {
  seq = 0;
  return events.map(([t, d]) => ev(t, d));
};
const started: [string, unknown] = ["agent_started", { input: "hi" }];
const done: [string, unknown] = ["agent_completed", { status: "succeeded" }];

describe("run rules", () => {
  it("accepts a well-formed run", () => {
    const events = run(
      started,
      ["agent_thinking", { text: "hm" }],
      ["tool_executing", { toolCallId: "a", tool: "calc", args: { x: 1 } }],
      ["progress_update", { percent: 10, message: "" }],
      ["tool_completed", { toolCallId: "a", tool: "calc", ok: true, result: 2, durationMs: 3 }],
      ["progress_update", { percent: 10, message: "same is fine" }],
      ["agent_question", { questionId: "q_1", prompt: "?" }],
      ["agent_output", { delta: "x" }],
      ["progress_update", { percent: 100, message: "" }],
      done,
    );
    expect(validateRunEvents(events)).toEqual([]);
  });

  it.each<[string, EventEnvelope[], RunRule[]]>([
    ["no agent_started first", run(["agent_thinking", { text: "x" }], done), ["order", "order"]],
    ["agent_started twice", run(started, started, done), ["order"]],
    ["no terminal", run(started, ["agent_output", { delta: "x" }]), ["terminal"]],
    ["event after terminal", run(started, done, ["agent_output", { delta: "x" }]), ["terminal"]],
    ["two terminals", run(started, done, ["agent_error", { code: "x", message: "y", retryable: false }]), ["terminal"]],
    ["unpaired tool call", run(started, ["tool_executing", { toolCallId: "a", tool: "t", args: {} }], done), ["tool_pairing"]],
    [
      "tool call open when the run stops",
      run(started, ["tool_executing", { toolCallId: "a", tool: "t", args: {} }]),
      ["terminal", "tool_pairing"],
    ],
    [
      "completion without call",
      run(started, ["tool_completed", { toolCallId: "zz", tool: "t", ok: true, durationMs: 1 }], done),
      ["tool_pairing"],
    ],
    [
      "completion names another tool",
      run(
        started,
        ["tool_executing", { toolCallId: "a", tool: "t", args: {} }],
        ["tool_completed", { toolCallId: "a", tool: "u", ok: true, durationMs: 1 }],
        done,
      ),
      ["tool_pairing"],
    ],
    [
      "toolCallId reused (and the second call never completes)",
      run(
        started,
        ["tool_executing", { toolCallId: "a", tool: "t", args: {} }],
        ["tool_completed", { toolCallId: "a", tool: "t", ok: true, durationMs: 1 }],
        ["tool_executing", { toolCallId: "a", tool: "t", args: {} }],
        done,
      ),
      ["tool_pairing", "tool_pairing"],
    ],
    [
      "progress decreasing",
      run(started, ["progress_update", { percent: 50, message: "" }], ["progress_update", { percent: 40, message: "" }], done),
      ["progress"],
    ],
    ["progress over 100", run(started, ["progress_update", { percent: 101, message: "" }], done), ["progress"]],
    ["progress below 0", run(started, ["progress_update", { percent: -1, message: "" }], done), ["progress"]],
    ["bad data", run(started, ["agent_output", { delta: 5 }], done), ["schema"]],
    ["bad completion status (so no terminal either)", run(started, ["agent_completed", { status: "maybe" }]), ["schema", "terminal"]],
    ["unknown type", run(started, ["agent_dancing", {}], done), ["schema"]],
  ])("rejects: %s — under its rule, once", (_name, events, rules) => {
    const violations = validateRunEvents(events);
    expect(violations.map((v) => v.rule)).toEqual(rules);
    for (const v of violations) expect(v.message).not.toBe("");
  });

  it("rejects seq gaps, duplicates, reordering and mixed runs or users", () => {
    const base = run(started, ["agent_output", { delta: "a" }], ["agent_output", { delta: "b" }], done);
    const [a, b, c, d] = base as [EventEnvelope, EventEnvelope, EventEnvelope, EventEnvelope];
    const rules = (events: EventEnvelope[], opts = {}) => validateRunEvents(events, opts).map((v) => [v.seq, v.rule]);
    expect(rules([a, c, d])).toEqual([[3, "seq"]]);
    expect(rules([a, b, b, c, d])).toEqual([[2, "seq"]]);
    expect(rules([a, c, b, d])).toEqual([
      [3, "seq"],
      [2, "seq"],
      [4, "seq"],
    ]);
    expect(rules([a, { ...b, runId: "r_2" }, c, d])).toEqual([[2, "identity"]]);
    expect(rules([a, { ...b, taskId: "t_2" }, c, d])).toEqual([[2, "identity"]]);
    expect(rules([a, { ...b, userId: "someone else" }, c, d])).toEqual([[2, "identity"]]);
    expect(rules(base, { userId: "u" })).toEqual([]);
    expect(rules(base, { userId: "not the owner" })).toEqual(base.map((e) => [e.seq, "identity"]));
    expect(validateRunEvents([])).toEqual([{ seq: null, rule: "terminal", message: "the run has no events" }]);
  });

  it("every rule a violation names is in RUN_RULES", () => {
    expect(RUN_RULE_NAMES).toEqual(Object.keys(RUN_RULES));
    expect(RUN_RULE_NAMES).toEqual(expect.arrayContaining(["order", "terminal", "tool_pairing", "progress", "schema", "seq", "identity"]));
  });

  it("check() is the message of violation(), or null (the worker's contract)", () => {
    const rules = new RunRules();
    expect(rules.check("agent_thinking", { text: "x" })).toBe(rules.violation("agent_thinking", { text: "x" })?.message);
    expect(rules.violation("agent_thinking", { text: "x" })?.rule).toBe("order");
    expect(rules.check("agent_started", { input: "" })).toBeNull();
    expect(rules.violation("agent_started", { input: "" })).toBeNull();
  });

  it("RunRules tracks open tool calls for closing", () => {
    const rules = new RunRules();
    rules.apply("agent_started", { input: "" });
    rules.apply("tool_executing", { toolCallId: "a", tool: "t", args: {} });
    expect(rules.openToolCalls).toEqual([["a", "t"]]);
    expect(rules.violation("agent_completed", { status: "cancelled" })?.rule).toBe("tool_pairing");
    rules.apply("tool_completed", { toolCallId: "a", tool: "t", ok: false, durationMs: 0 });
    expect(rules.check("agent_completed", { status: "cancelled" })).toBeNull();
  });
});
