// History that never loses an answer (issue 15): once a task's history is over HISTORY_MAX_LEN entries,
// the oldest streamed deltas are folded into one snapshot per run (the run's whole text up to it) and
// every other event is kept. A reader resuming from ANY seq, page by page, ends with exactly each run's
// full text and every non-delta event in order. Real Redis, the real publish and compaction scripts.
import type { EventEnvelope } from "@agentcast/protocol";
import { type RedisServerHandle, startRedisServer } from "@agentcast/testkit";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createKeys, EventLog, EventPublisher, TaskStore } from "../src/index.js";

let server: RedisServerHandle;
let redis: Redis;
let n = 0;
beforeAll(async () => {
  server = await startRedisServer();
  redis = new Redis(server.url);
});
afterAll(async () => {
  redis?.disconnect();
  await server?.[Symbol.asyncDispose]();
});

/** What a client builds from what it is given: each run's text (a snapshot replaces, a delta appends) and the other events. */
function apply(state: { text: Map<string, string>; others: string[]; seqs: number[] }, events: EventEnvelope[]) {
  for (const e of events) {
    state.seqs.push(e.seq);
    if (e.type === "agent_output") {
      const d = e.data as { delta: string; snapshot?: true };
      state.text.set(e.runId, d.snapshot ? d.delta : (state.text.get(e.runId) ?? "") + d.delta);
    } else state.others.push(`${e.seq}:${e.type}`);
  }
  return state;
}
const fresh = () => ({ text: new Map<string, string>(), others: [] as string[], seqs: [] as number[] });

async function readAll(log: EventLog, taskId: string, after: number, pageSize: number) {
  const out: EventEnvelope[] = [];
  let cursor = after;
  for (let i = 0; i < 10_000; i++) {
    const page = await log.readRawAfter(taskId, cursor, pageSize);
    const events = page.rows.map((r) => JSON.parse(r.json.toString()) as EventEnvelope);
    out.push(...events);
    if (!page.full) return out;
    cursor = page.rows.at(-1)?.seq ?? cursor;
  }
  throw new Error("unbounded read");
}

async function setup(maxLen: number, maxBytes = 0) {
  const keys = createKeys(`compact${++n}`);
  const tasks = new TaskStore(redis, { keys, historyTtlSeconds: 600 });
  const publisher = new EventPublisher(redis, { keys, historyMaxLen: maxLen, historyMaxBytes: maxBytes, historyTtlSeconds: 600 });
  const log = new EventLog(redis, keys);
  const { taskId, runId } = await tasks.createTask("u", "long");
  return { keys, tasks, publisher, log, taskId, runId };
}

describe("history compaction", () => {
  it("two runs of 1,500 deltas with tool calls between, bound 100: within the bound, tools kept, every resume ends with the full texts", async () => {
    const { keys, tasks, publisher, log, taskId, runId } = await setup(100);
    const published: EventEnvelope[] = [];
    const texts = new Map<string, string>();
    const run = async (id: string) => {
      const at = { taskId, runId: id, userId: "u" };
      published.push((await publisher.publish({ ...at, type: "agent_started", data: { input: "x" } })).envelope);
      let text = "";
      for (let i = 0; i < 1_500; i++) {
        const delta = `${id}:${i} `;
        text += delta;
        published.push((await publisher.publish({ ...at, type: "agent_output", data: { delta } })).envelope);
        if (i % 100 === 99) {
          published.push(
            (await publisher.publish({ ...at, type: "tool_executing", data: { toolCallId: `tc${i}`, tool: "t", args: {} } })).envelope,
          );
          published.push(
            (await publisher.publish({ ...at, type: "tool_completed", data: { toolCallId: `tc${i}`, tool: "t", ok: true, durationMs: 1 } }))
              .envelope,
          );
        }
      }
      published.push((await publisher.publish({ ...at, type: "agent_completed", data: { status: "succeeded" } })).envelope);
      texts.set(id, text);
    };
    await run(runId);
    const next = await tasks.startRun("u", taskId);
    if (!next.ok) throw new Error(next.code);
    await run(next.runId);

    const entries = (await redis.xlen(keys.events(taskId))) + (await redis.hlen(keys.snapshots(taskId))) / 2;
    expect(entries).toBeLessThanOrEqual(100);
    const nonDelta = published.filter((e) => e.type !== "agent_output").map((e) => `${e.seq}:${e.type}`);
    expect(await log.position(taskId)).toMatchObject({ firstSeq: 1, lastSeq: published.length });

    // From 0, in pages of 7 and of 1,000: every non-delta event, in order, and each run's whole text.
    for (const pageSize of [7, 1_000]) {
      const got = apply(fresh(), await readAll(log, taskId, 0, pageSize));
      expect(got.others).toEqual(nonDelta);
      expect(got.text).toEqual(texts);
      expect(got.seqs).toEqual([...got.seqs].sort((a, b) => a - b));
      expect(new Set(got.seqs).size).toBe(got.seqs.length);
    }
    // From any seq: what a client had (everything up to X, as published) plus the replay after X.
    for (const x of [1, 2, 500, 1_560, 1_600, 3_000, 3_150, published.length - 1, published.length]) {
      const had = apply(
        fresh(),
        published.filter((e) => e.seq <= x),
      );
      const got = apply(had, await readAll(log, taskId, x, 50));
      expect(got.text, `resume from ${x}`).toEqual(texts);
      expect(got.others, `resume from ${x}`).toEqual(nonDelta);
    }
  });

  it("events that are not deltas are dropped only when they alone are over the bound: trimmedThrough, firstSeq after it", async () => {
    const { log, publisher, taskId, runId } = await setup(100);
    const at = { taskId, runId, userId: "u" };
    await publisher.publish({ ...at, type: "agent_started", data: { input: "x" } });
    for (let i = 1; i <= 300; i++) await publisher.publish({ ...at, type: "progress_update", data: { percent: i / 3, message: `${i}` } });
    const { firstSeq, lastSeq } = await log.position(taskId);
    expect(lastSeq).toBe(301);
    expect(firstSeq).toBeGreaterThan(200);
    const rest = await readAll(log, taskId, 0, 1_000);
    expect(rest[0]?.seq).toBe(firstSeq);
    expect(rest.map((e) => e.seq)).toEqual(Array.from({ length: lastSeq - (firstSeq as number) + 1 }, (_, i) => (firstSeq as number) + i));
  });

  /** What the history really holds, in bytes: every envelope in the stream and every snapshot envelope. */
  async function realBytes(keys: ReturnType<typeof createKeys>, taskId: string): Promise<number> {
    const rows = await redis.xrange(keys.events(taskId), "-", "+");
    let bytes = rows.reduce((sum, [, fields]) => sum + Buffer.byteLength(fields[1] ?? ""), 0);
    const snaps = await redis.hgetall(keys.snapshots(taskId));
    for (const [field, value] of Object.entries(snaps)) if (field.startsWith("e|")) bytes += Buffer.byteLength(value);
    return bytes;
  }

  it("HISTORY_MAX_BYTES: a 100,000-token answer in 1 MiB — deltas folded by bytes, the whole text kept, historyBytes exact", async () => {
    const maxBytes = 1_048_576;
    const { keys, log, publisher, taskId, runId } = await setup(10_000, maxBytes);
    const at = { taskId, runId, userId: "u" };
    await publisher.publish({ ...at, type: "agent_started", data: { input: "x" } });
    // 100,000 tokens of 1–5 characters (some not ASCII), 20 per event as a coalescing worker sends them.
    let text = "";
    let folded = 0;
    for (let e = 0; e < 5_000; e++) {
      let delta = "";
      for (let k = 0; k < 20; k++) delta += "abcdé€🙂xyz".slice(0, 1 + ((e * 20 + k) % 5));
      text += delta;
      const p = await publisher.publish({ ...at, type: "agent_output", data: { delta } });
      if (p.compaction && "folded" in p.compaction) folded += p.compaction.folded;
    }
    await publisher.publish({ ...at, type: "agent_completed", data: { status: "succeeded" } });
    expect(folded).toBeGreaterThan(0);
    const counted = Number(await redis.hget(keys.task(taskId), "historyBytes"));
    expect(counted).toBe(await realBytes(keys, taskId));
    expect(counted).toBeLessThanOrEqual(maxBytes);
    // Nothing was dropped: a resume from 0 gets the whole answer.
    expect((await log.position(taskId)).firstSeq).toBe(1);
    const got = apply(fresh(), await readAll(log, taskId, 0, 500));
    expect(got.text.get(runId)).toBe(text);
    expect(got.others).toEqual(["1:agent_started", "5002:agent_completed"]);
  });

  it("HISTORY_MAX_BYTES: past it, the oldest events and snapshots are dropped (oldest seq first) until it fits; resumes start after them", async () => {
    const maxBytes = 64 * 1024;
    const { keys, log, publisher, taskId, runId } = await setup(10_000, maxBytes);
    const at = { taskId, runId, userId: "u" };
    await publisher.publish({ ...at, type: "agent_started", data: { input: "x" } });
    // 60 whole thoughts of 2 KB (never folded), then an answer whose text alone is over the bound.
    let trimmed = 0;
    for (let i = 0; i < 60; i++) {
      const p = await publisher.publish({ ...at, type: "agent_thinking", data: { text: `${i} ${"t".repeat(2_000)}` } });
      if (p.compaction && "trimmed" in p.compaction) trimmed += p.compaction.trimmed;
    }
    for (let i = 0; i < 100; i++) {
      const p = await publisher.publish({ ...at, type: "agent_output", data: { delta: `${i}`.padEnd(1_000, ".") } });
      if (p.compaction && "trimmed" in p.compaction) trimmed += p.compaction.trimmed;
    }
    const last = await publisher.publish({ ...at, type: "agent_completed", data: { status: "succeeded" } });
    expect(trimmed).toBeGreaterThan(60);
    const counted = Number(await redis.hget(keys.task(taskId), "historyBytes"));
    expect(counted).toBe(await realBytes(keys, taskId));
    expect(counted).toBeLessThanOrEqual(maxBytes);
    // Every thought is gone (they are the oldest), and so is the start of the answer: a resume from 0 is
    // told where history starts, and reads a gapless tail from there to the terminal event.
    const { firstSeq, lastSeq } = await log.position(taskId);
    expect(lastSeq).toBe(last.envelope.seq);
    expect(firstSeq).toBeGreaterThan(61);
    const tail = await readAll(log, taskId, 0, 1_000);
    expect(tail.some((e) => e.type === "agent_thinking")).toBe(false);
    expect(tail.at(-1)?.type).toBe("agent_completed");
    const seqs = tail.map((e) => e.seq);
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    expect(new Set(seqs).size).toBe(seqs.length);
  });
});
