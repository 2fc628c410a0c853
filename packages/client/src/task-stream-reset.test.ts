// task_reset (issue 14, fault 2): a Redis failover lost events the client was given, and others may
// take their seqs. The stream voids what it delivered, tells its handles, and starts again at the next
// event — it must not drop the new events as duplicates of the lost ones.
import type { EventEnvelope } from "@agentcast/protocol";
import { describe, expect, it } from "vitest";
import { TaskHandle } from "./task-handle.js";
import { TaskStream } from "./task-stream.js";

const ev = (seq: number, id = `a${seq}`): EventEnvelope =>
  ({ v: 1, id, seq, type: "agent_output", taskId: "t", runId: "r", userId: "u", ts: 0, data: { delta: id } }) as EventEnvelope;

const stream = () => new TaskStream("t", 0, { maxRetained: 100, onGap: () => {}, maxHeld: 100, onHeldDropped: () => {} });

describe("TaskStream.reset (task_reset)", () => {
  it("keeps the id of its last event, for a resubscribe to send as sinceId", () => {
    const s = stream();
    for (const seq of [1, 2, 3]) s.accept(ev(seq));
    expect([s.lastSeq, s.lastId]).toEqual([3, "a3"]);
    s.skipTo(10); // a truncated resubscribe: the event at 10 was never delivered here
    expect([s.lastSeq, s.lastId]).toEqual([10, undefined]);
  });

  it("voids what was delivered and takes the history again, new content under old seqs included", async () => {
    const s = stream();
    const handle = new TaskHandle(s, 0, () => {});
    const got: string[] = [];
    let resets = 0;
    handle.on("*", (e) => got.push(`${e.seq}:${e.id}`));
    handle.onReset(() => {
      resets++;
      got.length = 0;
    });
    await Promise.resolve(); // the handle's replay of retained events (none)
    for (const seq of [1, 2, 3, 4]) s.accept(ev(seq));
    s.reset();
    expect(resets).toBe(1);
    expect([s.lastSeq, s.lastId, s.retained]).toEqual([0, undefined, []]);
    // The gateway sends the history as it is now: a1, a2, then b3, b4 that took the lost seqs.
    for (const e of [ev(1), ev(2), ev(3, "b3"), ev(4, "b4"), ev(5, "b5")]) s.accept(e);
    expect(got).toEqual(["1:a1", "2:a2", "3:b3", "4:b4", "5:b5"]);
    expect(s.retained.map((e) => e.id)).toEqual(["a1", "a2", "b3", "b4", "b5"]);
  });

  it("starts again wherever the history starts now (trimmed history is not a gap)", () => {
    let gaps = 0;
    const s = new TaskStream("t", 0, { maxRetained: 100, onGap: () => gaps++, maxHeld: 100, onHeldDropped: () => {} });
    for (const seq of [1, 2, 3]) s.accept(ev(seq));
    s.reset();
    s.accept(ev(7));
    s.accept(ev(8));
    expect(s.retained.map((e) => e.seq)).toEqual([7, 8]);
    expect(gaps).toBe(0);
  });
});
