import type { EventEnvelope } from "@agentcast/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Stack, seqProblem, startStack } from "./fixture.js";
import { pingMarker } from "./ping-marker.js";

const isTerminal = (e: EventEnvelope) => e.type === "agent_completed" || e.type === "agent_error";

describe("resume on another gateway with sinceSeq", () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ gateways: 2, workers: 1 });
  });
  afterAll(() => stack?.stop());

  it("delivers every event exactly once, in order, while the run is still emitting (race between replay and live)", async () => {
    let racedLive = 0;
    const cuts = [1, 2, 3, 5, 8, 13, 21, 34, 55, 70];
    for (const [i, cut] of cuts.entries()) {
      const from = i % 2; // alternate directions: g1 → g2, g2 → g1
      const first = await stack.client("carol", from);
      const ack = await first.command("user_message", { text: "/tools 30 what is 3*3" });
      if (!ack.ok) throw new Error(JSON.stringify(ack));
      await first.waitFor("event", (p) => (p as EventEnvelope).taskId === ack.taskId && (p as EventEnvelope).seq >= cut);
      first.disconnect();
      const seen = first.events(ack.taskId).filter((e) => e.seq <= cut);
      expect(
        seqProblem(
          seen.map((e) => e.seq),
          1,
          cut,
        ),
      ).toBeNull();

      const second = await stack.client("carol", 1 - from);
      const sub = await second.command("subscribe", { taskId: ack.taskId, sinceSeq: cut });
      expect(sub).toMatchObject({ ok: true, taskId: ack.taskId });
      if (!sub.ok) return;
      const rest = await second.collectRun(ack.taskId);
      const last = rest[rest.length - 1] as EventEnvelope;
      expect(isTerminal(last)).toBe(true);
      expect(
        seqProblem(
          rest.map((e) => e.seq),
          cut + 1,
          last.seq,
        ),
      ).toBeNull();
      if (sub.lastSeq < last.seq) racedLive++;
      second.disconnect();
    }
    // The run was still emitting when most of those subscribes happened: the race was exercised.
    expect(racedLive).toBeGreaterThanOrEqual(cuts.length / 2);
  });

  it("never re-sends on the same socket: a second subscribe is a no-op; unsubscribe stops delivery", async () => {
    const alice = await stack.client("dave", 0);
    const ack = await alice.command("user_message", { text: "what is 2*21" });
    if (!ack.ok) throw new Error(JSON.stringify(ack));
    const run = await alice.collectRun(ack.taskId);
    const again = await alice.command("subscribe", { taskId: ack.taskId, sinceSeq: 0 });
    expect(again).toMatchObject({ ok: true, lastSeq: run.length });
    // Marker: a follow-up run on the task, whose events reach this socket after anything the second subscribe sent.
    const second = await alice.command("user_message", { text: "and 1+1", taskId: ack.taskId });
    if (!second.ok) throw new Error(JSON.stringify(second));
    const lastSeq = (await alice.collectRun(ack.taskId, { runId: second.runId })).at(-1)?.seq ?? 0;
    expect(lastSeq).toBeGreaterThan(run.length);
    expect(
      seqProblem(
        alice.events(ack.taskId).map((e) => e.seq),
        1,
        lastSeq,
      ),
    ).toBeNull();

    // After unsubscribe, a new run on the task is not delivered to this socket...
    expect(await alice.command("unsubscribe", { taskId: ack.taskId })).toEqual({ ok: true, taskId: ack.taskId });
    const watcher = await stack.client("dave", 1);
    const witness = await stack.client("dave", 0); // on alice's gateway: it delivers the run there
    for (const w of [watcher, witness])
      expect(await w.command("subscribe", { taskId: ack.taskId, sinceSeq: lastSeq })).toMatchObject({ ok: true });
    const followUp = await watcher.command("user_message", { text: "again 1+2", taskId: ack.taskId });
    if (!followUp.ok) throw new Error(JSON.stringify(followUp));
    await Promise.all([watcher, witness].map((w) => w.collectRun(ack.taskId, { runId: followUp.runId })));
    await pingMarker(alice); // answered after anything alice's gateway wrote to her before it
    expect(alice.events(ack.taskId).length).toBe(lastSeq);
    // ...and subscribing again replays from the requested seq.
    const before = alice.received.length;
    expect(await alice.command("subscribe", { taskId: ack.taskId, sinceSeq: lastSeq })).toMatchObject({ ok: true });
    await alice.waitFor("event", (p) => (p as EventEnvelope).runId === followUp.runId && isTerminal(p as EventEnvelope), {
      fromIndex: before,
    });
    const replayed = alice.received
      .slice(before)
      .filter((m) => m.name === "event")
      .map((m) => (m.payload as EventEnvelope).seq);
    expect(seqProblem(replayed, lastSeq + 1, watcher.events(ack.taskId).at(-1)?.seq ?? 0)).toBeNull();
  });

  it("plain socket.io-client with a subscribe issued while the run streams gets each seq once", async () => {
    const owner = await stack.client("erin", 0);
    const ack = await owner.command("user_message", { text: "/tools 20 what is 9-3" });
    if (!ack.ok) throw new Error(JSON.stringify(ack));
    // Five sockets on the other gateway subscribe at staggered moments during the run.
    const watchers = await Promise.all([0, 1, 2, 3, 4].map(() => stack.client("erin", 1)));
    for (const [i, w] of watchers.entries()) {
      await owner.waitFor("event", (p) => (p as EventEnvelope).seq >= 1 + i * 12);
      expect(await w.command("subscribe", { taskId: ack.taskId })).toMatchObject({ ok: true });
    }
    const full = await owner.collectRun(ack.taskId);
    for (const w of watchers) {
      const got = await w.collectRun(ack.taskId);
      expect(got).toEqual(full);
    }
  });
});

describe("history retention", () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ gateways: 1, workers: 1, workerEnv: { HISTORY_MAX_LEN: "100" } });
  });
  afterAll(() => stack?.stop());

  it("says truncated with firstSeq when sinceSeq is older than the retained history, and replays from the oldest retained", async () => {
    const owner = await stack.client("frank", 0);
    const ack = await owner.command("user_message", { text: "/tools 50 what is 1+1" });
    if (!ack.ok) throw new Error(JSON.stringify(ack));
    await owner.collectRun(ack.taskId);
    const more = await owner.command("user_message", { text: "/tools 50 what is 2+2", taskId: ack.taskId });
    if (!more.ok) throw new Error(JSON.stringify(more));
    await owner.waitFor("event", (p) => (p as EventEnvelope).runId === more.runId && isTerminal(p as EventEnvelope));
    const lastSeq = owner.events(ack.taskId).at(-1)?.seq ?? 0;
    expect(lastSeq).toBeGreaterThan(200);

    const late = await stack.client("frank", 0);
    const sub = await late.command("subscribe", { taskId: ack.taskId, sinceSeq: 0 });
    expect(sub).toMatchObject({ ok: true, truncated: true, lastSeq, firstSeq: expect.any(Number) });
    if (!sub.ok || sub.firstSeq === undefined) return;
    expect(sub.firstSeq).toBeGreaterThan(1);
    await late.waitFor("event", (p) => (p as EventEnvelope).seq === lastSeq);
    expect(
      seqProblem(
        late.events(ack.taskId).map((e) => e.seq),
        sub.firstSeq,
        lastSeq,
      ),
    ).toBeNull();

    const http = await stack.http(`/v1/tasks/${ack.taskId}/events?sinceSeq=0`, { userId: "frank" });
    expect(http).toMatchObject({ status: 200, body: { truncated: true, firstSeq: sub.firstSeq, lastSeq } });
    expect(http.body.events[0].seq).toBe(sub.firstSeq);
  });
});
