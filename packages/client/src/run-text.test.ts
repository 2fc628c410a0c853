// Each run's accumulated text (issue 15): an app renders `handle.text().output`, never joining deltas itself.
import type { EventEnvelope, EventType } from "@agentcast/protocol";
import { describe, expect, it } from "vitest";
import { EMPTY_RUN_TEXT, foldRunText } from "./run-text.js";
import { TaskHandle } from "./task-handle.js";
import { TaskStream } from "./task-stream.js";

let seq = 0;
const ev = (type: EventType, data: unknown, runId = "r1"): EventEnvelope =>
  ({ v: 1, id: `e${++seq}`, seq, type, taskId: "t", runId, userId: "u", ts: 0, data }) as EventEnvelope;

describe("a run's text", () => {
  it("joins output deltas, streamed reasoning, and whole thoughts as paragraphs", () => {
    const events = [
      ev("agent_started", { input: "x" }),
      ev("agent_thinking", { delta: "Plan" }),
      ev("agent_thinking", { delta: "ning." }),
      ev("agent_output", { delta: "Hel" }),
      ev("progress_update", { percent: 50, message: "m" }),
      ev("agent_thinking", { text: "Checked." }),
      ev("agent_output", { delta: "lo" }),
    ];
    expect(events.reduce(foldRunText, EMPTY_RUN_TEXT)).toEqual({ output: "Hello", reasoning: "Planning.\n\nChecked." });
  });

  it("TaskHandle.text(): the latest run's by default, any run's by id, empty again after task_reset", async () => {
    seq = 0;
    const s = new TaskStream("t", 0, { maxRetained: 100, onGap: () => {}, maxHeld: 100, onHeldDropped: () => {} });
    const handle = new TaskHandle(s, 0, () => {});
    await Promise.resolve();
    expect(handle.text()).toEqual({ output: "", reasoning: "" });
    for (const e of [ev("agent_started", { input: "a" }), ev("agent_output", { delta: "first " }), ev("agent_output", { delta: "answer" })])
      s.accept(e);
    for (const e of [ev("agent_started", { input: "b" }, "r2"), ev("agent_output", { delta: "second" }, "r2")]) s.accept(e);
    expect(handle.text().output).toBe("second");
    expect(handle.text("r1").output).toBe("first answer");
    expect(handle.text("nope")).toEqual({ output: "", reasoning: "" });
    s.reset();
    expect(handle.text("r1").output).toBe("");
  });
});
