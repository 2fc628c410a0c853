import { describe, expect, it } from "vitest";
import { type LiveAction, type Phase, Subscription } from "./subscription.js";

type E = { seq: number; copy?: true };
const ev = (seq: number): E => ({ seq });
const page = (...seqs: number[]) => seqs.map(ev);
const seqsOf = (step: { deliver: { event: E; replayed: boolean }[] }) => step.deliver.map((d) => `${d.event.seq}${d.replayed ? "h" : "l"}`);

/** A subscription from `since`, joined at `lastSeq` with history from `firstSeq`. */
function joinedAt(since: number, lastSeq: number, firstSeq: number | undefined, maxPending = 100) {
  const sub = new Subscription<E>("t", since, { maxPending, keep: (e) => ({ ...e, copy: true }) });
  const start = sub.joined({ lastSeq, firstSeq });
  return { sub, start };
}

describe("Subscription (state machine, no I/O)", () => {
  it.each([
    // since, lastSeq, firstSeq → ack, lastSeq after joining
    [0, 0, undefined, { lastSeq: 0 }, 0],
    [0, 5, 1, { lastSeq: 5 }, 0],
    [3, 5, 1, { lastSeq: 5 }, 3],
    [5, 5, undefined, { lastSeq: 5 }, 5],
    [0, 20, 11, { lastSeq: 20, truncated: true, firstSeq: 11 }, 10],
    [12, 20, 11, { lastSeq: 20 }, 12],
    [10, 20, 11, { lastSeq: 20 }, 10],
    [2, 20, undefined, { lastSeq: 20, truncated: true, firstSeq: 21 }, 20],
  ])("joined: since %i, task at %i, history from %s → %o", (since, lastSeq, firstSeq, ack, after) => {
    const { sub, start } = joinedAt(since, lastSeq, firstSeq);
    expect(start).toEqual(ack);
    expect(sub.lastSeq).toBe(after);
    expect(sub.phase).toBe("replaying");
  });

  it("holds live events while joining and replaying (kept copies), then merges them after history, each seq once", () => {
    const sub = new Subscription<E>("t", 0, { maxPending: 100, keep: (e) => ({ ...e, copy: true }) });
    expect(sub.offer(ev(3))).toBe("hold"); // arrived while the room was being confirmed
    sub.joined({ lastSeq: 2, firstSeq: 1 });
    expect(sub.offer(ev(4))).toBe("hold");
    const step = sub.replayed(page(1, 2, 3), false);
    expect(seqsOf(step)).toEqual(["1h", "2h", "3h", "4l"]);
    expect(step.deliver.at(-1)?.event.copy).toBe(true);
    expect(step).toMatchObject({ holes: [], next: "live" });
    expect(sub.phase).toBe("live");
    expect(sub.held).toBe(0);
  });

  it("reads again while pages are full, and while a held event is not next in line", () => {
    const { sub } = joinedAt(0, 6, 1);
    expect(sub.offer(ev(9))).toBe("hold");
    expect(sub.replayed(page(1, 2, 3), true)).toMatchObject({ next: "read" });
    const second = sub.replayed(page(4, 5, 6), false);
    expect(seqsOf(second)).toEqual(["4h", "5h", "6h"]);
    expect(second.next).toBe("read"); // 7 and 8 are not in what was read yet
    const third = sub.replayed(page(7, 8), false);
    expect(seqsOf(third)).toEqual(["7h", "8h", "9l"]);
    expect(third.next).toBe("live");
  });

  it.each<[string, number, LiveAction, Phase, number]>([
    ["next in line", 6, "deliver", "live", 6],
    ["a duplicate", 5, "drop", "live", 5],
    ["an old duplicate", 2, "drop", "live", 5],
    ["a gap (a live message was lost)", 8, "gap", "replaying", 5],
  ])("live: %s", (_why, seq, action, phase, lastSeq) => {
    const { sub } = joinedAt(0, 5, 1);
    sub.replayed(page(1, 2, 3, 4, 5), false);
    expect(sub.phase).toBe("live");
    expect(sub.offer(ev(seq))).toBe(action);
    expect(sub.phase).toBe(phase);
    expect(sub.lastSeq).toBe(lastSeq);
  });

  it("a live gap replays the missing events from history and then the event that revealed the gap", () => {
    const { sub } = joinedAt(0, 1, 1);
    sub.replayed(page(1), false);
    expect(sub.offer(ev(4))).toBe("gap");
    expect(sub.offer(ev(5))).toBe("hold");
    expect(seqsOf(sub.replayed(page(2, 3, 4), false))).toEqual(["2h", "3h", "4h", "5l"]);
    expect(sub.phase).toBe("live");
  });

  it("entries trimmed while reading are holes (one per hole), and delivery goes on in order", () => {
    const { sub } = joinedAt(0, 9, 1);
    const step = sub.replayed(page(1, 2, 3, 5, 8, 9), false);
    expect(seqsOf(step)).toEqual(["1h", "2h", "3h", "5h", "8h", "9h"]);
    expect(step.holes).toEqual([
      { kind: "trimmed", after: 3, next: 5 },
      { kind: "trimmed", after: 5, next: 8 },
    ]);
  });

  it("a held event whose predecessors are gone from history: read again a bounded number of times, then skip the hole once", () => {
    const { sub } = joinedAt(0, 4, 1);
    sub.replayed(page(1, 2, 3, 4), false);
    expect(sub.offer(ev(7))).toBe("gap");
    for (let round = 1; round <= 3; round++) expect(sub.replayed([], false)).toMatchObject({ deliver: [], holes: [], next: "read" });
    const step = sub.replayed([], false);
    expect(seqsOf(step)).toEqual(["7l"]);
    expect(step.holes).toEqual([{ kind: "skipped", after: 4, next: 7 }]);
    expect(sub.phase).toBe("live");
  });

  it("past maxPending live events are dropped and history is read again before going live", () => {
    const { sub } = joinedAt(0, 0, undefined, 2);
    for (const seq of [1, 2, 3, 4]) expect(sub.offer(ev(seq))).toBe("hold");
    expect(sub.held).toBe(2);
    const first = sub.replayed([], false);
    expect(seqsOf(first)).toEqual(["1l", "2l"]);
    expect(first.next).toBe("read"); // 3 and 4 were dropped: not live before history is read again
    expect(seqsOf(sub.replayed(page(1, 2, 3, 4), false))).toEqual(["3h", "4h"]);
    expect(sub.phase).toBe("live");
  });

  it("resync sends a live subscription back to history; anything else is left alone", () => {
    const { sub } = joinedAt(0, 1, 1);
    expect(sub.resync()).toBe(false); // replaying already
    sub.replayed(page(1), false);
    expect(sub.resync()).toBe(true);
    expect(sub.phase).toBe("replaying");
    expect(seqsOf(sub.replayed(page(1, 2), false))).toEqual(["2h"]);
  });

  it("closed: drops everything, holds nothing, delivers nothing", () => {
    const { sub } = joinedAt(0, 3, 1);
    expect(sub.offer(ev(4))).toBe("hold");
    sub.close();
    expect(sub.phase).toBe("closed");
    expect(sub.held).toBe(0);
    expect(sub.offer(ev(5))).toBe("drop");
    expect(sub.replayed(page(1, 2, 3), false).deliver).toEqual([]);
    expect(sub.resync()).toBe(false);
  });

  it("joined() outside joining is a bug, said loudly", () => {
    const { sub } = joinedAt(0, 3, 1);
    expect(() => sub.joined({ lastSeq: 3, firstSeq: 1 })).toThrow(/joined\(\) in phase replaying/);
  });
});
