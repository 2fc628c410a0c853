import { type EventEnvelope, taskRoom } from "@agentcast/protocol";
import { broadcastFrame, createKeys, EventPublisher, TaskStore } from "@agentcast/store";
import { jsonLine } from "@agentcast/testkit";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { type Stack, startStack } from "./fixture.js";
import { scrape, value } from "./metrics.js";

const LAG_BUCKETS = ["0.001", "0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1", "2.5", "5", "+Inf"];

/**
 * Holes in history, made for real with XDEL on the gateway's Redis, and live events whose history entry is
 * gone. The gateway must count `sequence_gap` once per hole it meets and give the client every event
 * that still exists, in order.
 */
describe("sequence_gap from the gateway's own replay, and delivery lag buckets", () => {
  let stack: Stack;
  let redis: Redis;
  const keys = createKeys();
  const gateway = () => scrape(stack.gateways[0]?.metricsPort ?? 0);
  const gaps = (m: Map<string, number>) => value(m, "agentcast_silent_failures_total", { component: "gateway", kind: "sequence_gap" });
  const gatewayLog = (msg: string) => (stack.gateways[0]?.child.output ?? []).map(jsonLine).filter((r) => r?.msg === msg);
  const xdel = (taskId: string, ...seqs: number[]) => redis.xdel(keys.events(taskId), ...seqs.map((s) => `${s}-0`));
  /** Sends an envelope to the task room the way the worker's publish script does (sharded pub/sub, adapter frame). */
  const sendLive = (envelope: EventEnvelope) => {
    const frame = broadcastFrame(taskRoom(envelope.taskId), "event");
    return redis.spublish(frame.channel, `${frame.prefix}${JSON.stringify(envelope)}${frame.suffix}`);
  };
  const seqs = (events: EventEnvelope[]) => events.map((e) => e.seq);

  beforeAll(async () => {
    stack = await startStack({ gateways: 1, workers: 1 });
    redis = new Redis(stack.redis.url);
  });
  afterAll(async () => {
    redis?.disconnect();
    await stack?.stop();
  });

  it("replay across deleted entries: one sequence_gap per hole, the client gets every remaining event in order", async () => {
    const gia = await stack.client("gia");
    const ack = await gia.command("user_message", { text: "/tools 2 what is 4*4" });
    if (!ack.ok) throw new Error(JSON.stringify(ack));
    const run = await gia.collectRun(ack.taskId);
    const n = run.length;
    expect(n).toBeGreaterThanOrEqual(10);
    expect(await xdel(ack.taskId, 4, 6, 7)).toBe(3); // two holes: 4, and 6–7

    const g0 = await gateway();
    const fromStart = await stack.client("gia");
    expect(await fromStart.command("subscribe", { taskId: ack.taskId })).toEqual({ ok: true, taskId: ack.taskId, lastSeq: n });
    const all = await fromStart.collectRun(ack.taskId);
    expect(seqs(all)).toEqual(seqs(run).filter((s) => ![4, 6, 7].includes(s)));
    expect(all).toEqual(run.filter((e) => ![4, 6, 7].includes(e.seq)));
    const g1 = await gateway();
    expect(gaps(g1) - gaps(g0)).toBe(2);
    expect(value(g1, "agentcast_gateway_events_replayed_total") - value(g0, "agentcast_gateway_events_replayed_total")).toBe(n - 3);
    // The log lines travel through the gateway's stdout pipe: they may trail the counter by a moment.
    await vi.waitFor(() =>
      expect(gatewayLog("history trimmed during replay").map((r) => [r?.after, r?.next])).toEqual([
        [3, 5],
        [5, 8],
      ]),
    );

    // From sinceSeq 5 only the second hole lies ahead.
    const fromFive = await stack.client("gia");
    expect(await fromFive.command("subscribe", { taskId: ack.taskId, sinceSeq: 5 })).toMatchObject({ ok: true, lastSeq: n });
    expect(seqs(await fromFive.collectRun(ack.taskId))).toEqual(seqs(run).filter((s) => s > 7));
    expect(gaps(await gateway()) - gaps(g1)).toBe(1);
    // Nothing was missing before seq 4, so a subscriber from there sees no hole and counts none.
    const g2 = await gateway();
    const fromEight = await stack.client("gia");
    expect(await fromEight.command("subscribe", { taskId: ack.taskId, sinceSeq: 7 })).toMatchObject({ ok: true });
    expect(seqs(await fromEight.collectRun(ack.taskId))).toEqual(seqs(run).filter((s) => s > 7));
    expect(gaps(await gateway()) - gaps(g2)).toBe(0);
  });

  it("replays history in any envelope layout: entries in another field order (an older worker) go through the JSON path", async () => {
    const hal = await stack.client("hal");
    const ack = await hal.command("user_message", { text: "/tools 1 what is 2*2" });
    if (!ack.ok) throw new Error(JSON.stringify(ack));
    const run = await hal.collectRun(ack.taskId);
    expect(run.length).toBeGreaterThanOrEqual(6);
    // Rewrite the stream with entries 2 and 4 in another layout (`id` before `seq`); the rest stay as the
    // publish script wrote them.
    const stream = keys.events(ack.taskId);
    const original = await redis.xrange(stream, "-", "+");
    await redis.del(stream);
    for (const [entryId, fields] of original) {
      const e = JSON.parse(fields[1] as string) as EventEnvelope;
      const { v, id, seq, ...rest } = e;
      await redis.xadd(stream, entryId, "e", seq === 2 || seq === 4 ? JSON.stringify({ v, id, seq, ...rest }) : (fields[1] as string));
    }
    const stored = await redis.xrange(stream, "-", "+");
    expect(stored.map(([, f]) => (f[1] as string).slice(0, 12))).toContain('{"v":1,"id":');
    expect(stored.map(([, f]) => (f[1] as string).slice(0, 13))).toContain('{"v":1,"seq":');

    const again = await stack.client("hal");
    expect(await again.command("subscribe", { taskId: ack.taskId })).toMatchObject({ ok: true, lastSeq: run.length });
    expect(await again.collectRun(ack.taskId)).toEqual(run);
  });

  describe("a hand-made run (real publish script; some live messages never sent)", () => {
    let taskId: string;
    let live: EventPublisher;
    /** Appends to history and publishes on a channel no gateway listens to: a lost live message. */
    let unheard: EventPublisher;
    let watcher: Awaited<ReturnType<Stack["client"]>>;
    const publish = (p: EventPublisher, text: string) =>
      p.publish({ taskId, runId, userId: "hal", type: "agent_thinking", data: { text } }).then((r) => r.envelope);
    let runId: string;

    beforeAll(async () => {
      const tasks = new TaskStore(redis, { keys, historyTtlSeconds: 3_600 });
      ({ taskId, runId } = await tasks.createTask("hal", "a run without a worker"));
      const opts = { keys, historyMaxLen: 10_000, historyTtlSeconds: 3_600 };
      live = new EventPublisher(redis, opts);
      unheard = new EventPublisher(redis, { ...opts, channelPrefix: "nobody-listens" });
      watcher = await stack.client("hal");
      expect(await watcher.command("subscribe", { taskId })).toEqual({ ok: true, taskId, lastSeq: 0 });
      await live.publish({ taskId, runId, userId: "hal", type: "agent_started", data: { input: "a run without a worker" } });
      await watcher.waitFor("event", (p) => (p as EventEnvelope).seq === 1);
    });

    it("delivery lag lands in the right buckets around 0.05 s and 0.25 s (events stamped by a skewed clock)", async () => {
      const before = await gateway();
      // ts ahead of the gateway's clock (lag clamps to 0), 120 ms behind, 1.2 s behind (clear of bucket bounds).
      for (const [i, skewMs] of [60_000, -120, -1_200].entries()) {
        const envelope = await publish(unheard, `skew ${skewMs}`);
        expect(envelope.seq).toBe(2 + i);
        await sendLive({ ...envelope, ts: envelope.ts + skewMs });
        await watcher.waitFor("event", (p) => (p as EventEnvelope).seq === envelope.seq);
      }
      const after = await gateway();
      const d = (le: string) =>
        value(after, "agentcast_gateway_delivery_lag_seconds_bucket", { le }) -
        value(before, "agentcast_gateway_delivery_lag_seconds_bucket", { le });
      expect(Object.fromEntries(LAG_BUCKETS.map((le) => [le, d(le)]))).toEqual({
        "0.001": 1,
        "0.005": 1,
        "0.01": 1,
        "0.025": 1,
        "0.05": 1,
        "0.1": 1,
        "0.25": 2,
        "0.5": 2,
        "1": 2,
        "2.5": 3,
        "5": 3,
        "+Inf": 3,
      });
      const sum = value(after, "agentcast_gateway_delivery_lag_seconds_sum") - value(before, "agentcast_gateway_delivery_lag_seconds_sum");
      expect(sum).toBeGreaterThanOrEqual(1.32);
      expect(sum).toBeLessThan(1.7);
    });

    it("a live event whose predecessors are gone from history: counted once after the retries, then delivered", async () => {
      const g0 = await gateway();
      const lost = await publish(unheard, "never seen live, then deleted");
      const late = await publish(unheard, "seen live only after its history entry was deleted");
      expect([lost.seq, late.seq]).toEqual([5, 6]);
      await xdel(taskId, 5, 6);
      await sendLive(late);
      await watcher.waitFor("event", (p) => (p as EventEnvelope).seq === 6);
      const completed = await live.publish({ taskId, runId, userId: "hal", type: "agent_completed", data: { status: "succeeded" } });
      await watcher.waitFor("event", (p) => (p as EventEnvelope).seq === completed.envelope.seq);
      expect(seqs(watcher.events(taskId))).toEqual([1, 2, 3, 4, 6, 7]);
      expect(watcher.events(taskId).at(-2)).toEqual(late);
      expect(gaps(await gateway()) - gaps(g0)).toBe(1);
      await vi.waitFor(() => {
        expect(gatewayLog("events missing from history; skipping the hole")).toHaveLength(1);
        expect(gatewayLog("live gap; replaying from history").filter((r) => r?.gotSeq === 6)).toHaveLength(1);
      });
    });
  });
});
