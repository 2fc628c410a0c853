// A history rewritten under a subscription (issue 14, fault 2): a Redis failover lost events the socket
// was given, and another event may take a lost seq with other content. The subscription checks the id
// of the event at its lastSeq — in every history read and on live events at or below it — and resets
// instead of dropping the newcomer as a duplicate.
import { describe, expect, it } from "vitest";
import { type LiveAction, Subscription } from "./subscription.js";

type E = { seq: number; id: string };
/** Event `seq` as written by the first master (`a`) or after a failover rewrote it (`b`). */
const a = (seq: number): E => ({ seq, id: `a${seq}` });
const b = (seq: number): E => ({ seq, id: `b${seq}` });
const seqsOf = (step: { deliver: { event: E }[] }) => step.deliver.map((d) => d.event.id);

/** A live subscription that was given a1..a`upTo`. */
function liveAt(upTo: number) {
  const sub = new Subscription<E>("t", 0, { maxPending: 100 });
  sub.joined({ lastSeq: upTo, firstSeq: 1 });
  sub.replayed(
    Array.from({ length: upTo }, (_, i) => a(i + 1)),
    false,
  );
  expect(sub.phase).toBe("live");
  return sub;
}

describe("Subscription: a rewritten history is reset, never deduplicated", () => {
  it.each<[string, E, LiveAction, number]>([
    ["the event at lastSeq again (a resend)", a(5), "drop", 5],
    ["another event at lastSeq (history rewritten)", b(5), "reset", 0],
    ["an event below lastSeq (a resend or a rewrite: history is read to tell)", b(4), "verify", 5],
    ["next in line", a(6), "deliver", 6],
  ])("live: %s", (_why, event, action, lastSeq) => {
    const sub = liveAt(5);
    expect(sub.offer(event)).toBe(action);
    expect(sub.lastSeq).toBe(lastSeq);
    if (action !== "deliver" && action !== "drop") expect(sub.phase).toBe("replaying");
  });

  it("every history read starts at lastSeq and checks the event there: the same one goes on", () => {
    const sub = liveAt(5);
    expect(sub.resync()).toBe(true);
    expect(sub.replayAfter).toBe(4);
    const step = sub.replayed([a(5), a(6), a(7)], false);
    expect(step.reset).toBeUndefined();
    expect(seqsOf(step)).toEqual(["a6", "a7"]);
    expect(sub.phase).toBe("live");
  });

  it.each<[string, E[]]>([
    ["history ends before lastSeq (the failover lost it; nothing written since)", []],
    ["another event holds lastSeq (lost, and the seq was given again)", [b(5), b(6)]],
  ])("a read that finds %s resets the subscription", (_why, read) => {
    const sub = liveAt(5);
    sub.resync();
    expect(sub.replayed(read, false)).toEqual({ deliver: [], holes: [], next: "read", reset: true });
    expect(sub.lastSeq).toBe(0);
    expect(sub.replayAfter).toBe(0);
    // The replay starts over with what history holds now.
    const again = sub.replayed([a(1), a(2), a(3), a(4), b(5), b(6)], false);
    expect(seqsOf(again)).toEqual(["a1", "a2", "a3", "a4", "b5", "b6"]);
    expect(again.holes).toEqual([]);
    expect(sub.phase).toBe("live");
  });

  it("after a reset, delivery starts at the oldest retained event (no hole reported for trimmed history)", () => {
    const sub = liveAt(5);
    expect(sub.offer(b(5))).toBe("reset");
    const step = sub.replayed([a(3), a(4), b(5)], false);
    expect(seqsOf(step)).toEqual(["a3", "a4", "b5"]);
    expect(step.holes).toEqual([]);
  });

  it("live events held while checking are dropped at a reset: the replay from history brings what is real", () => {
    const sub = liveAt(3);
    expect(sub.offer(b(2))).toBe("verify");
    expect(sub.offer(a(4))).toBe("hold"); // from the old master, lost with a3
    expect(sub.replayAfter).toBe(2);
    expect(sub.replayed([], false)).toMatchObject({ reset: true }); // history now: a1, b2
    expect(sub.replayAfter).toBe(0);
    expect(sub.held).toBe(0);
    expect(seqsOf(sub.replayed([a(1), b(2)], false))).toEqual(["a1", "b2"]);
  });

  it("an entry at lastSeq that was trimmed cannot be checked: the replay goes on from what follows", () => {
    const sub = liveAt(5);
    sub.resync();
    const step = sub.replayed([a(8), a(9)], false);
    expect(step.reset).toBeUndefined();
    expect(seqsOf(step)).toEqual(["a8", "a9"]);
  });

  it("a client resuming with sinceSeq and sinceId is checked the same way", () => {
    const ok = new Subscription<E>("t", 5, { maxPending: 100 }, "a5");
    ok.joined({ lastSeq: 7, firstSeq: 1 });
    expect(ok.replayAfter).toBe(4);
    expect(seqsOf(ok.replayed([a(5), a(6), a(7)], false))).toEqual(["a6", "a7"]);
    const rewritten = new Subscription<E>("t", 5, { maxPending: 100 }, "a5");
    rewritten.joined({ lastSeq: 7, firstSeq: 1 });
    expect(rewritten.replayed([b(5), b(6), b(7)], false)).toMatchObject({ reset: true });
    // Without an id (an older client) nothing can be checked: it starts after sinceSeq, as before.
    const legacy = new Subscription<E>("t", 5, { maxPending: 100 });
    legacy.joined({ lastSeq: 7, firstSeq: 1 });
    expect(legacy.replayAfter).toBe(5);
    expect(seqsOf(legacy.replayed([b(6), b(7)], false))).toEqual(["b6", "b7"]);
  });

  it("a client ahead of history (it was given events a failover lost) is reset", () => {
    const sub = new Subscription<E>("t", 9, { maxPending: 100 }, "a9");
    expect(sub.joined({ lastSeq: 7, firstSeq: 1 })).toEqual({ lastSeq: 7 });
    expect(sub.replayed([], false)).toMatchObject({ reset: true });
  });
});
