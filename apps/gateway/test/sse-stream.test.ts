// Issue 17, "Out" 1: plain resumable SSE on every gateway — GET /v1/tasks/:taskId/stream, resume with
// Last-Event-ID on the other gateway, ?follow=run, heartbeats, and the HTTP twins of cancel and answer.
import { get as httpGet, type IncomingMessage } from "node:http";
import { type EventEnvelope, validateRunEvents } from "@agentcast/protocol";
import { withTimeout } from "@agentcast/runtime";
import { createKeys, EventPublisher, TaskStore } from "@agentcast/store";
import { signDevToken, until } from "@agentcast/testkit";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Stack, seqProblem, startStack } from "./fixture.js";
import { scrape, value } from "./metrics.js";
import { type SseFrame, SseStream } from "./sse-client.js";

describe("resumable SSE: GET /v1/tasks/:taskId/stream", () => {
  let stack: Stack;
  const streams: SseStream[] = [];
  beforeAll(async () => {
    stack = await startStack({ gateways: 2, workers: 1, gatewayEnv: { SSE_HEARTBEAT_MS: "300" } });
  });
  afterAll(async () => {
    for (const s of streams) s.abort();
    await stack?.stop();
  });

  const open = async (gateway: number, path: string, userId: string | null, headers: Record<string, string> = {}) => {
    const auth: Record<string, string> = userId === null ? {} : { authorization: `Bearer ${await stack.token(userId)}` };
    const s = new SseStream(`${stack.gateways[gateway]?.url}${path}`, { ...auth, ...headers });
    streams.push(s);
    return s;
  };
  const start = async (userId: string, text: string, gateway = 0) => {
    const res = await stack.http("/v1/tasks", { userId, body: { text }, gateway });
    expect(res.status).toBe(202);
    return res.body as { taskId: string; runId: string };
  };
  const history = async (userId: string, taskId: string) =>
    (await stack.http(`/v1/tasks/${taskId}/events?sinceSeq=0`, { userId })).body.events as EventEnvelope[];
  const eventFrames = (frames: SseFrame[]) => frames.filter((f) => f.id !== undefined);

  it("streams a run on the other gateway: id is the seq, event the type, data the envelope; ?follow=run ends after the terminal", async () => {
    const { taskId, runId } = await start("sse-ann", "/tools 3 sum 1+2");
    const s = await open(1, `/v1/tasks/${taskId}/stream?follow=run`, "sse-ann");
    await s.ended;
    expect(s.status).toBe(200);
    expect(s.headers?.get("content-type")).toMatch(/^text\/event-stream/);
    expect(s.headers?.get("cache-control")).toContain("no-cache");
    const frames = eventFrames(s.frames);
    const events = s.events;
    expect(frames.map((f) => f.id)).toEqual(events.map((e) => String(e.seq)));
    expect(frames.map((f) => f.event)).toEqual(events.map((e) => e.type));
    expect(
      seqProblem(
        events.map((e) => e.seq),
        1,
        events.length,
      ),
    ).toBeNull();
    expect(events.at(-1)).toMatchObject({ type: "agent_completed", runId });
    expect(validateRunEvents(events)).toEqual([]);
    expect(events).toEqual(await history("sse-ann", taskId));
  });

  it("a client dropped mid-run resumes on the other gateway with Last-Event-ID: every event once, in order; Last-Event-ID wins over ?sinceSeq", async () => {
    const { taskId } = await start("sse-bo", "/slow /tools 6 sum 2+3");
    const first = await open(0, `/v1/tasks/${taskId}/stream`, "sse-bo");
    await first.until((f) => eventFrames(f).length >= 5, 15_000, "5 events");
    first.abort();
    const lastId = eventFrames(first.frames).at(-1)?.id as string;
    const seen = first.events;
    // ?sinceSeq=0 would replay everything: the header is what EventSource sends, so it decides.
    const second = await open(1, `/v1/tasks/${taskId}/stream?sinceSeq=0&follow=run`, "sse-bo", { "last-event-id": lastId });
    await second.ended;
    expect(second.status).toBe(200);
    const all = [...seen, ...second.events];
    expect(second.events[0]?.seq).toBe(Number(lastId) + 1);
    expect(
      seqProblem(
        all.map((e) => e.seq),
        1,
        all.length,
      ),
    ).toBeNull();
    expect(all.at(-1)?.type).toBe("agent_completed");
    expect(all).toEqual(await history("sse-bo", taskId));
  });

  it("?follow=run on an idle task ends at once when the client is past its last event; an open stream gets heartbeats", async () => {
    const { taskId } = await start("sse-cy", "hello");
    const whole = await open(1, `/v1/tasks/${taskId}/stream?follow=run`, "sse-cy");
    await whole.ended;
    const lastSeq = whole.events.at(-1)?.seq as number;
    expect(whole.events.at(-1)?.type).toBe("agent_completed");

    const past = await open(0, `/v1/tasks/${taskId}/stream?follow=run&sinceSeq=${lastSeq}`, "sse-cy");
    await past.ended;
    expect(past.status).toBe(200);
    expect(eventFrames(past.frames)).toEqual([]);

    // Without follow the stream stays open for the next run; heartbeat comments keep it alive meanwhile.
    const idle = await open(0, `/v1/tasks/${taskId}/stream`, "sse-cy", { "last-event-id": String(lastSeq) });
    await idle.until((f) => f.filter((x) => x.comment === "heartbeat").length >= 2, 5_000, "two heartbeats");
    expect(eventFrames(idle.frames)).toEqual([]);
    // The next run arrives on the same stream.
    const next = await stack.http("/v1/tasks", { userId: "sse-cy", body: { text: "again", taskId } });
    expect(next.status).toBe(202);
    await idle.until((f) => eventFrames(f).some((x) => x.event === "agent_completed"), 15_000, "the second run's end");
    expect(idle.events[0]?.seq).toBe(lastSeq + 1);
    idle.abort();
  });

  it("cancel and answer over HTTP, with the commands' codes; a cancel ends the run for every viewer", async () => {
    // Answer: the question's id comes from the stream.
    const asked = await start("sse-di", "/ask what is 6*7");
    const viewer = await open(1, `/v1/tasks/${asked.taskId}/stream?follow=run`, "sse-di");
    await viewer.until((f) => f.some((x) => x.event === "agent_question"), 15_000, "the question");
    const question = viewer.events.find((e) => e.type === "agent_question");
    const { questionId } = (question?.data ?? {}) as { questionId: string };
    const path = `/v1/tasks/${asked.taskId}/answer`;
    expect(await stack.http(path, { userId: "sse-eve", body: { questionId, response: "no" } })).toMatchObject({
      status: 403,
      body: { error: { code: "forbidden" } },
    });
    expect(await stack.http(path, { userId: "sse-di", body: { questionId: "q_nope", response: "no" } })).toMatchObject({
      status: 404,
      body: { error: { code: "not_found" } },
    });
    expect(await stack.http(path, { userId: "sse-di", body: { questionId, response: "x", extra: 1 } })).toMatchObject({
      status: 400,
      body: { error: { code: "invalid_payload" } },
    });
    expect(await stack.http(path, { userId: "sse-di", body: { questionId, response: "nothing, thanks" }, gateway: 1 })).toEqual({
      status: 202,
      body: { taskId: asked.taskId, questionId },
    });
    await viewer.ended;
    expect(viewer.events.at(-1)).toMatchObject({ type: "agent_completed", data: { status: "succeeded" } });

    // Cancel: two viewers on two gateways both see the run end.
    const slow = await start("sse-di", "/slow /tools 20 sum 3+4");
    const a = await open(0, `/v1/tasks/${slow.taskId}/stream?follow=run`, "sse-di");
    const b = await open(1, `/v1/tasks/${slow.taskId}/stream?follow=run`, "sse-di");
    await a.until((f) => f.some((x) => x.event === "tool_executing"), 15_000, "a tool call");
    const cancel = `/v1/tasks/${slow.taskId}/cancel`;
    expect((await stack.http(cancel, { userId: "sse-eve", method: "POST" })).status).toBe(403);
    expect(await stack.http(cancel, { userId: "sse-di", method: "POST", gateway: 1 })).toEqual({
      status: 202,
      body: { taskId: slow.taskId, runId: slow.runId },
    });
    await Promise.all([a.ended, b.ended]);
    for (const s of [a, b]) expect(s.events.at(-1)).toMatchObject({ type: "agent_completed", data: { status: "cancelled" } });
    expect(a.events).toEqual(b.events);
    expect(await stack.http(cancel, { userId: "sse-di", method: "POST" })).toMatchObject({
      status: 409,
      body: { error: { code: "task_not_running" } },
    });
  });

  it("a dropped viewer cancels nothing: the run goes on and a later stream gets it whole", async () => {
    const { taskId } = await start("sse-fay", "/slow /tools 3 sum 4+4");
    const gone = await open(0, `/v1/tasks/${taskId}/stream`, "sse-fay");
    await gone.until((f) => eventFrames(f).length >= 2, 15_000, "2 events");
    gone.abort();
    const later = await open(1, `/v1/tasks/${taskId}/stream?follow=run`, "sse-fay");
    await later.ended;
    expect(later.events.at(-1)).toMatchObject({ type: "agent_completed", data: { status: "succeeded" } });
  });

  it("refuses bad requests with coded errors before anything streams", async () => {
    const { taskId } = await start("sse-gus", "hi");
    const cases: [string, string | null, Record<string, string>, number, string][] = [
      [`/v1/tasks/${taskId}/stream`, null, {}, 401, "token_missing"],
      [`/v1/tasks/${taskId}/stream?token=${await stack.token("sse-gus")}`, null, {}, 401, "token_invalid"],
      [`/v1/tasks/${taskId}/stream`, "sse-hal", {}, 403, "forbidden"],
      ["/v1/tasks/t_unknown/stream", "sse-gus", {}, 404, "not_found"],
      ["/v1/tasks/%E0%A4%A/stream", "sse-gus", {}, 400, "invalid_payload"],
      [`/v1/tasks/${taskId}/stream`, "sse-gus", { "last-event-id": "abc" }, 400, "invalid_payload"],
      [`/v1/tasks/${taskId}/stream?sinceSeq=-1`, "sse-gus", {}, 400, "invalid_payload"],
      [`/v1/tasks/${taskId}/stream?follow=all`, "sse-gus", {}, 400, "invalid_payload"],
    ];
    for (const [path, userId, headers, status, code] of cases) {
      const s = await open(1, path, userId, headers);
      await s.ended;
      expect({ path, status: s.status }).toEqual({ path, status });
      const res = await fetch(`${stack.gateways[1]?.url}${path}`, {
        headers: { ...headers, ...(userId ? { authorization: `Bearer ${await stack.token(userId)}` } : {}) },
      });
      expect({ path, body: await res.json() }).toMatchObject({ path, body: { error: { code } } });
    }
  });
});

describe("SSE slow readers", () => {
  let stack: Stack;
  let redis: Redis;
  beforeAll(async () => {
    // The default bound (1 MiB): above a replay page of these events (100 × 8 KB), far below the 16 MB history.
    stack = await startStack({ gateways: 1, workers: 0 });
    redis = new Redis(stack.redis.url);
  });
  afterAll(async () => {
    redis?.disconnect();
    await stack?.stop();
  });

  it("a stream whose client stops reading is ended past the outbound bound (bounded buffer); a reader resumes and gets everything", {
    timeout: 90_000,
  }, async () => {
    const keys = createKeys("ac");
    const tasks = new TaskStore(redis, { keys, historyTtlSeconds: 600 });
    const publisher = new EventPublisher(redis, { keys, historyMaxLen: 100_000, historyTtlSeconds: 600 });
    const { taskId, runId } = await tasks.createTask("sse-slow", "a flood");
    await publisher.publish({ taskId, runId, userId: "sse-slow", type: "agent_started", data: { input: "flood" } });
    const chunk = "x".repeat(8_192);
    for (let i = 0; i < 2_000; i++)
      await publisher.publish({ taskId, runId, userId: "sse-slow", type: "agent_output", data: { delta: chunk } });
    const token = await signDevToken("sse-slow");
    const url = new URL(`${stack.gateways[0]?.url}/v1/tasks/${taskId}/stream`);

    // A raw request that stops reading its body: 16 MB of history cannot fit in socket buffers.
    let response: IncomingMessage | undefined;
    const req = httpGet(url, { headers: { authorization: `Bearer ${token}` } }, (res) => {
      response = res;
      res.once("data", () => res.pause());
    });
    req.on("error", () => {});
    const port = stack.gateways[0]?.metricsPort ?? 0;
    await until(
      "the gateway to end the stalled stream",
      async () => {
        const m = await scrape(port);
        return (
          value(m, "agentcast_gateway_limits_total", { limit: "slow_consumer" }) >= 1 &&
          value(m, "agentcast_gateway_http_streams", { protocol: "sse" }) === 0
        );
      },
      30_000,
    );
    expect(response?.statusCode).toBe(200);
    // The connection is gone on the server's side: once the client reads again, its stream ends.
    const stalled = response as IncomingMessage;
    const closed = new Promise<void>((resolve) => stalled.socket.once("close", () => resolve()));
    stalled.resume();
    await withTimeout(closed, 10_000, "the stalled stream's connection to close");

    // A client that reads gets all of it, resuming from where it is (here: from the start) — even one
    // that reads slower than history is read: the replay waits for it instead of ending it as slow.
    const slowBefore = value(await scrape(port), "agentcast_gateway_limits_total", { limit: "slow_consumer" });
    const reader = new SseStream(url.toString(), { authorization: `Bearer ${token}` }, { readDelayMs: 3 });
    await reader.until((f) => f.filter((x) => x.id !== undefined).length >= 2_001, 45_000, "the whole history");
    reader.abort();
    expect(value(await scrape(port), "agentcast_gateway_limits_total", { limit: "slow_consumer" })).toBe(slowBefore);
    expect(
      seqProblem(
        reader.events.map((e) => e.seq),
        1,
        2_001,
      ),
    ).toBeNull();
  });

  it("when history no longer reaches the asked seq, the first frame is `truncated` with firstSeq, then what is retained", async () => {
    const keys = createKeys("ac");
    const tasks = new TaskStore(redis, { keys, historyTtlSeconds: 600 });
    const publisher = new EventPublisher(redis, { keys, historyMaxLen: 10, historyTtlSeconds: 600 });
    const { taskId, runId } = await tasks.createTask("sse-trim", "a long run");
    await publisher.publish({ taskId, runId, userId: "sse-trim", type: "agent_started", data: { input: "go" } });
    for (let i = 1; i <= 40; i++)
      await publisher.publish({ taskId, runId, userId: "sse-trim", type: "progress_update", data: { percent: i, message: `step ${i}` } });
    const token = await signDevToken("sse-trim");
    const s = new SseStream(`${stack.gateways[0]?.url}/v1/tasks/${taskId}/stream?sinceSeq=2`, { authorization: `Bearer ${token}` });
    await s.until((f) => f.some((x) => x.id === "41"), 10_000, "the last event");
    s.abort();
    expect(s.frames[0]?.event).toBe("truncated");
    const { firstSeq } = JSON.parse(s.frames[0]?.data ?? "{}") as { firstSeq: number };
    expect(firstSeq).toBeGreaterThan(3);
    expect(
      seqProblem(
        s.events.map((e) => e.seq),
        firstSeq,
        41,
      ),
    ).toBeNull();
  });
});
