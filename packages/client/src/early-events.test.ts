import type { EventEnvelope } from "@agentcast/protocol";
import { describe, expect, it } from "vitest";
import { EarlyEvents, type EarlyOutcome } from "./early-events.js";

const ev = (taskId: string, seq: number): EventEnvelope =>
  ({ v: 1, id: `${taskId}-${seq}`, seq, type: "agent_output", taskId, runId: "r", userId: "u", ts: 0, data: {} }) as EventEnvelope;

type Step =
  | { begin: string; taskId?: string }
  | { add: [string, number]; outcome: EarlyOutcome }
  | { take: string; seqs: number[] }
  | { end: string; lossy: boolean; forgotten: string[] };

interface Case {
  name: string;
  maxEvents: number;
  steps: Step[];
  /** [tasks, events] kept at the end. */
  kept: [number, number];
}

const cases: Case[] = [
  {
    name: "nothing is kept while no send is in flight",
    maxEvents: 10,
    steps: [{ add: ["a", 1], outcome: "unexpected" }],
    kept: [0, 0],
  },
  {
    name: "a new task's send may own any task's events; the others are forgotten when it ends",
    maxEvents: 10,
    steps: [
      { begin: "s1" },
      { add: ["a", 1], outcome: "kept" },
      { add: ["b", 7], outcome: "kept" },
      { add: ["a", 2], outcome: "kept" },
      { take: "a", seqs: [1, 2] },
      { end: "s1", lossy: false, forgotten: ["b"] },
    ],
    kept: [0, 0],
  },
  {
    name: "a follow-up's send owns only its task's events",
    maxEvents: 10,
    steps: [
      { begin: "s1", taskId: "a" },
      { add: ["b", 1], outcome: "unexpected" },
      { add: ["a", 5], outcome: "kept" },
      { end: "s1", lossy: false, forgotten: ["a"] },
    ],
    kept: [0, 0],
  },
  {
    name: "past the bound an event is dropped and every send that may own it is lossy",
    maxEvents: 2,
    steps: [
      { begin: "new" },
      { begin: "followA", taskId: "a" },
      { begin: "followB", taskId: "b" },
      { add: ["a", 1], outcome: "kept" },
      { add: ["a", 2], outcome: "kept" },
      { add: ["a", 3], outcome: "dropped" },
      { end: "followB", lossy: false, forgotten: [] },
      { take: "a", seqs: [1, 2] },
      { end: "followA", lossy: true, forgotten: [] },
      { end: "new", lossy: true, forgotten: [] },
    ],
    kept: [0, 0],
  },
  {
    name: "the bound counts events across tasks, so it bounds tasks too",
    maxEvents: 3,
    steps: [
      { begin: "s1" },
      { add: ["a", 1], outcome: "kept" },
      { add: ["b", 1], outcome: "kept" },
      { add: ["c", 1], outcome: "kept" },
      { add: ["d", 1], outcome: "dropped" },
    ],
    kept: [3, 3],
  },
  {
    name: "events that arrived before a send started are not kept for it",
    maxEvents: 10,
    steps: [
      { begin: "s1" },
      { add: ["a", 1], outcome: "kept" },
      { begin: "s2" },
      { end: "s1", lossy: false, forgotten: ["a"] },
      { add: ["b", 1], outcome: "kept" },
    ],
    kept: [1, 1],
  },
  {
    name: "events stay while an older send that may own them is in flight",
    maxEvents: 10,
    steps: [
      { begin: "s1" },
      { begin: "s2" },
      { add: ["a", 1], outcome: "kept" },
      { end: "s2", lossy: false, forgotten: [] },
      { take: "a", seqs: [1] },
    ],
    kept: [0, 0],
  },
];

describe("EarlyEvents", () => {
  it.each(cases)("$name", (c) => {
    const early = new EarlyEvents(c.maxEvents);
    const ids = new Map<string, number>();
    for (const step of c.steps) {
      if ("begin" in step) ids.set(step.begin, early.begin(step.taskId));
      else if ("add" in step) expect(early.add(ev(...step.add)), `add ${step.add.join(":")}`).toBe(step.outcome);
      else if ("take" in step) expect(early.take(step.take).map((e) => e.seq)).toEqual(step.seqs);
      else expect(early.end(ids.get(step.end) ?? -1), `end ${step.end}`).toEqual({ lossy: step.lossy, forgotten: step.forgotten });
    }
    expect([early.tasks, early.events]).toEqual(c.kept);
  });

  it("knows which tasks a send in flight follows up", () => {
    const early = new EarlyEvents(10);
    const id = early.begin("a");
    expect([early.followsUp("a"), early.followsUp("b")]).toEqual([true, false]);
    early.end(id);
    expect(early.followsUp("a")).toBe(false);
  });
});
