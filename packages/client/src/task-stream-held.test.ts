import type { EventEnvelope } from "@agentcast/protocol";
import { describe, expect, it } from "vitest";
import { TaskStream } from "./task-stream.js";

const ev = (seq: number, runId = "r", type: EventEnvelope["type"] = "agent_output"): EventEnvelope =>
  ({ v: 1, id: `e${seq}`, seq, type, taskId: "t", runId, userId: "u", ts: 0, data: {} }) as EventEnvelope;

interface Case {
  name: string;
  /** Run the stream starts at (startAtRun), if any. */
  anchorRun?: string;
  input: EventEnvelope[];
  /** What a re-read from `lastSeq` then brings (the gateway's replay from history). */
  replay: EventEnvelope[];
  /** `[lastSeq, dropped]` at each onHeldDropped call. */
  drops: [number, number][];
  heldAfterInput: number;
  delivered: number[];
}

const seqs = (...s: number[]) => s.map((n) => ev(n));
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

// maxHeld = 3 in every case.
const cases: Case[] = [
  {
    name: "a gap within the bound fills from the held events",
    input: seqs(1, 3, 4, 5, 2),
    replay: [],
    drops: [],
    heldAfterInput: 0,
    delivered: range(1, 5),
  },
  {
    name: "one past the bound drops every held event; the re-read from lastSeq brings them back once",
    input: seqs(1, 3, 4, 5, 6),
    replay: seqs(2, 3, 4, 5, 6),
    drops: [[1, 4]],
    heldAfterInput: 0,
    delivered: range(1, 6),
  },
  {
    name: "after a drop, later events are held again within the bound; a second overflow drops again",
    input: seqs(1, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12),
    replay: seqs(2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12),
    drops: [
      [1, 4],
      [1, 4],
    ],
    heldAfterInput: 2,
    delivered: range(1, 12),
  },
  {
    name: "duplicates of held events do not count toward the bound",
    input: seqs(1, 3, 3, 4, 4, 5, 5, 2),
    replay: [],
    drops: [],
    heldAfterInput: 0,
    delivered: range(1, 5),
  },
  {
    name: "a run's events held before its agent_started are bounded too",
    anchorRun: "r2",
    input: [ev(9, "r2"), ev(10, "r2"), ev(11, "r2"), ev(12, "r2")],
    replay: [ev(3, "r1"), ev(8, "r2", "agent_started"), ev(9, "r2"), ev(10, "r2"), ev(11, "r2"), ev(12, "r2")],
    drops: [[0, 4]],
    heldAfterInput: 0,
    delivered: range(8, 12),
  },
];

describe("TaskStream: held events are bounded", () => {
  it.each(cases)("$name", (c) => {
    const drops: [number, number][] = [];
    const s = new TaskStream("t", 0, {
      maxRetained: 100,
      maxHeld: 3,
      onGap: () => {},
      onHeldDropped: (n) => drops.push([s.lastSeq, n]),
    });
    if (c.anchorRun) s.startAtRun(c.anchorRun);
    const got: number[] = [];
    s.listen((e) => got.push(e.seq));
    let peak = 0;
    for (const e of c.input) {
      s.accept(e);
      peak = Math.max(peak, s.heldCount);
    }
    expect(drops).toEqual(c.drops);
    expect(s.heldCount).toBe(c.heldAfterInput);
    expect(peak).toBeLessThanOrEqual(3);
    for (const e of c.replay) s.accept(e);
    expect(got).toEqual(c.delivered);
    expect(s.heldCount).toBe(0);
  });
});
