import { describe, expect, it } from "vitest";
import type { EventEnvelope } from "./events.js";
import { RunRules, validateRunEvents } from "./run-rules.js";

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

  it.each([
    ["no agent_started first", run(["agent_thinking", { text: "x" }], done), "before agent_started"],
    ["agent_started twice", run(started, started, done), "agent_started twice"],
    ["no terminal", run(started, ["agent_output", { delta: "x" }]), "no terminal event"],
    ["event after terminal", run(started, done, ["agent_output", { delta: "x" }]), "after the terminal"],
    ["two terminals", run(started, done, ["agent_error", { code: "x", message: "y", retryable: false }]), "after the terminal"],
    ["unpaired tool call", run(started, ["tool_executing", { toolCallId: "a", tool: "t", args: {} }], done), "while tool calls are open"],
    [
      "completion without call",
      run(started, ["tool_completed", { toolCallId: "zz", tool: "t", ok: true, durationMs: 1 }], done),
      "not executing",
    ],
    [
      "completion names another tool",
      run(
        started,
        ["tool_executing", { toolCallId: "a", tool: "t", args: {} }],
        ["tool_completed", { toolCallId: "a", tool: "u", ok: true, durationMs: 1 }],
        done,
      ),
      'expected "t"',
    ],
    [
      "toolCallId reused",
      run(
        started,
        ["tool_executing", { toolCallId: "a", tool: "t", args: {} }],
        ["tool_completed", { toolCallId: "a", tool: "t", ok: true, durationMs: 1 }],
        ["tool_executing", { toolCallId: "a", tool: "t", args: {} }],
        done,
      ),
      "reused",
    ],
    [
      "progress decreasing",
      run(started, ["progress_update", { percent: 50, message: "" }], ["progress_update", { percent: 40, message: "" }], done),
      "went down",
    ],
    ["progress over 100", run(started, ["progress_update", { percent: 101, message: "" }], done), "percent"],
    ["progress below 0", run(started, ["progress_update", { percent: -1, message: "" }], done), "percent"],
    ["bad data", run(started, ["agent_output", { delta: 5 }], done), "agent_output"],
    ["bad completion status", run(started, ["agent_completed", { status: "maybe" }]), "agent_completed"],
    ["unknown type", run(started, ["agent_dancing", {}], done), "unknown event type"],
  ])("rejects: %s", (_name, events, message) => {
    const violations = validateRunEvents(events);
    expect(violations.length).toBeGreaterThan(0);
    expect(violations.map((v) => v.message).join(" | ")).toContain(message);
  });

  it("rejects seq gaps, duplicates, reordering and mixed runs", () => {
    const base = run(started, ["agent_output", { delta: "a" }], ["agent_output", { delta: "b" }], done);
    const [a, b, c, d] = base as [EventEnvelope, EventEnvelope, EventEnvelope, EventEnvelope];
    expect(
      validateRunEvents([a, c, d])
        .map((v) => v.message)
        .join(),
    ).toContain("seq 3 follows 1");
    expect(
      validateRunEvents([a, b, b, c, d])
        .map((v) => v.message)
        .join(),
    ).toContain("seq 2 follows 2");
    expect(validateRunEvents([a, c, b, d]).length).toBeGreaterThan(0);
    expect(
      validateRunEvents([a, { ...b, runId: "r_2" }, c, d])
        .map((v) => v.message)
        .join(),
    ).toContain("runId r_2");
    expect(validateRunEvents([])).toEqual([{ seq: null, message: "the run has no events" }]);
  });

  it("RunRules tracks open tool calls for closing", () => {
    const rules = new RunRules();
    rules.apply("agent_started", { input: "" });
    rules.apply("tool_executing", { toolCallId: "a", tool: "t", args: {} });
    expect(rules.openToolCalls).toEqual([["a", "t"]]);
    expect(rules.check("agent_completed", { status: "cancelled" })).toContain("open");
    rules.apply("tool_completed", { toolCallId: "a", tool: "t", ok: false, durationMs: 0 });
    expect(rules.check("agent_completed", { status: "cancelled" })).toBeNull();
  });
});
