import type { EventEnvelope } from "@agentcast/protocol";
import { describe, expect, it } from "vitest";
import { TaskHandle } from "./task-handle.js";
import { TaskStream, type TaskStreamOptions } from "./task-stream.js";

const ev = (seq: number): EventEnvelope =>
  ({
    v: 1,
    id: `e${seq}`,
    seq,
    type: "agent_output",
    taskId: "t",
    runId: "r",
    userId: "u",
    ts: 0,
    data: { delta: String(seq) },
  }) as EventEnvelope;

/** Options with a large held bound, unless a test sets its own. */
const opts = (o: Partial<TaskStreamOptions> = {}): TaskStreamOptions => ({
  maxRetained: 100,
  onGap: () => {},
  maxHeld: 1_000,
  onHeldDropped: () => {},
  ...o,
});

const collect = (stream: TaskStream) => {
  const got: number[] = [];
  stream.listen((e) => got.push(e.seq));
  return got;
};

describe("TaskStream", () => {
  it("startAtRun: starts where the run's agent_started says, skipping earlier runs, without a gap", () => {
    const gaps: [number, number][] = [];
    const s = new TaskStream("t", 0, opts({ onGap: (a, b) => gaps.push([a, b]) }));
    s.startAtRun("r2");
    const got = collect(s);
    const of = (seq: number, runId: string, type: EventEnvelope["type"] = "agent_output") => ({ ...ev(seq), runId, type }) as EventEnvelope;
    s.accept(of(3, "r1")); // a replayed event of the previous run
    s.accept(of(9, "r2")); // before its start: held
    s.accept(of(8, "r2", "agent_started"));
    s.accept(of(10, "r2"));
    expect(got).toEqual([8, 9, 10]);
    expect(s.lastSeq).toBe(10);
    expect(gaps).toEqual([]);
  });

  it("delivers in order exactly once, holding early events until the gap fills", () => {
    const gaps: [number, number][] = [];
    const s = new TaskStream("t", 0, opts({ onGap: (a, b) => gaps.push([a, b]) }));
    const got = collect(s);
    for (const seq of [1, 2, 2, 4, 5, 3, 1, 6, 5]) s.accept(ev(seq));
    expect(got).toEqual([1, 2, 3, 4, 5, 6]);
    expect(gaps).toEqual([[3, 4]]); // reported once per gap
    expect(s.lastSeq).toBe(6);
    expect(s.hasGap).toBe(false);
  });

  it("starts after sinceSeq and can skip a truncated range", () => {
    const s = new TaskStream("t", 10, opts());
    const got = collect(s);
    s.accept(ev(10));
    s.accept(ev(20));
    expect(got).toEqual([]);
    s.skipTo(19);
    expect(got).toEqual([20]);
  });

  it("retains at most maxRetained events", () => {
    const s = new TaskStream("t", 0, opts({ maxRetained: 3 }));
    for (let i = 1; i <= 5; i++) s.accept(ev(i));
    expect(s.retained.map((e) => e.seq)).toEqual([3, 4, 5]);
  });
});

describe("TaskHandle", () => {
  it("gives a late handle the retained events after its sinceSeq, then live ones, via on() and iteration", async () => {
    const s = new TaskStream("t", 0, opts());
    for (let i = 1; i <= 3; i++) s.accept(ev(i));
    const h = new TaskHandle(s, 1, () => {});
    const viaOn: number[] = [];
    h.on("*", (e) => viaOn.push(e.seq));
    const iter = h[Symbol.asyncIterator]();
    await Promise.resolve();
    s.accept(ev(4));
    const viaIter = [];
    for (let i = 0; i < 3; i++) viaIter.push((await iter.next()).value?.seq);
    expect(viaOn).toEqual([2, 3, 4]);
    expect(viaIter).toEqual([2, 3, 4]);
    expect(h.lastSeq).toBe(4);
    let closedWith: TaskHandle | undefined;
    const h2 = new TaskHandle(s, 4, (x) => {
      closedWith = x;
    });
    const pending = h2[Symbol.asyncIterator]().next();
    h2.close();
    expect(await pending).toEqual({ value: undefined, done: true });
    expect(closedWith).toBe(h2);
  });
});
