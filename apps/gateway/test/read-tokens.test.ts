// Issue 17, "Auth for these surfaces": read tokens open one task's streams (SSE `?token=`, Socket.IO
// `auth.token`), subscribe and replay only; revoked at once on every gateway; limited per task; counted.

import type { EventEnvelope } from "@agentcast/protocol";
import { withTimeout } from "@agentcast/runtime";
import { GatewayTestClient, until } from "@agentcast/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Stack, seqProblem, startStack } from "./fixture.js";
import { scrape, value } from "./metrics.js";
import { SseStream } from "./sse-client.js";

describe("read tokens", () => {
  let stack: Stack;
  const streams: SseStream[] = [];
  const sockets: GatewayTestClient[] = [];
  beforeAll(async () => {
    stack = await startStack({ gateways: 2, workers: 1, gatewayEnv: { MAX_READ_TOKENS_PER_TASK: "3" } });
  });
  afterAll(async () => {
    for (const s of streams) s.abort();
    for (const c of sockets) c.disconnect();
    await stack?.stop();
  });

  const start = async (userId: string, text: string) => {
    const res = await stack.http("/v1/tasks", { userId, body: { text } });
    expect(res.status).toBe(202);
    return res.body as { taskId: string; runId: string };
  };
  const mint = (userId: string, taskId: string, body: unknown = {}, gateway = 0) =>
    stack.http(`/v1/tasks/${taskId}/read-tokens`, { userId, body, gateway });
  const stream = (gateway: number, path: string, headers: Record<string, string> = {}) => {
    const s = new SseStream(`${stack.gateways[gateway]?.url}${path}`, headers);
    streams.push(s);
    return s;
  };
  const socketWith = async (token: string, gateway = 0) => {
    const c = new GatewayTestClient({ url: stack.gateways[gateway]?.url ?? "", token });
    sockets.push(c);
    await c.connect();
    return c;
  };

  it("the owner mints one (201 { id, token, expiresAt }); anyone else, a bad ttl or an unknown field is refused", async () => {
    const { taskId } = await start("rt-ada", "hello");
    const before = Date.now();
    const res = await mint("rt-ada", taskId, { ttlSeconds: 120 });
    expect(res).toMatchObject({ status: 201, body: { id: expect.any(String), token: expect.stringMatching(/^rt\./) } });
    expect(res.body.expiresAt).toBeGreaterThanOrEqual(before + 120_000);
    expect(res.body.expiresAt).toBeLessThan(Date.now() + 121_000);
    expect((await mint("rt-bob", taskId)).body).toMatchObject({ error: { code: "forbidden" } });
    expect((await mint("rt-ada", "t_nope")).body).toMatchObject({ error: { code: "not_found" } });
    for (const body of [{ ttlSeconds: 0 }, { ttlSeconds: 2 ** 40 }, { ttlSeconds: "60" }, { ttlSeconds: 60, scope: "all" }]) {
      expect({ body, res: (await mint("rt-ada", taskId, body)).body }).toMatchObject({ body, res: { error: { code: "invalid_payload" } } });
    }
  });

  it("opens that task's SSE stream as ?token= on any gateway, and nothing else", async () => {
    const { taskId } = await start("rt-cid", "/tools 2 sum 1+1");
    const other = await start("rt-cid", "another task");
    const { token } = (await mint("rt-cid", taskId)).body as { token: string };
    const s = stream(1, `/v1/tasks/${taskId}/stream?follow=run&token=${encodeURIComponent(token)}`);
    await s.ended;
    expect(s.status).toBe(200);
    const history = (await stack.http(`/v1/tasks/${taskId}/events`, { userId: "rt-cid" })).body.events as EventEnvelope[];
    expect(s.events).toEqual(history);
    expect(
      seqProblem(
        s.events.map((e) => e.seq),
        1,
        history.length,
      ),
    ).toBeNull();
    // As a bearer header too (a server-side reader).
    const bearer = stream(0, `/v1/tasks/${taskId}/stream?follow=run`, { authorization: `Bearer ${token}` });
    await bearer.ended;
    expect(bearer.events).toEqual(history);

    const elsewhere = await fetch(`${stack.gateways[0]?.url}/v1/tasks/${other.taskId}/stream?token=${encodeURIComponent(token)}`);
    expect({ status: elsewhere.status, body: await elsewhere.json() }).toMatchObject({
      status: 403,
      body: { error: { code: "forbidden" } },
    });
    // It is not a user's token: no other route takes it.
    for (const [path, init] of [
      [`/v1/tasks/${taskId}/cancel`, { method: "POST" }],
      [`/v1/tasks/${taskId}/events`, {}],
      ["/v1/tasks", {}],
      [`/v1/tasks/${taskId}/read-tokens`, { method: "POST" }],
    ] as const) {
      const res = await fetch(`${stack.gateways[0]?.url}${path}`, { ...init, headers: { authorization: `Bearer ${token}` } });
      expect({ path, status: res.status }).toEqual({ path, status: 401 });
    }
    const forged = `${token.slice(0, -4)}AAAA`;
    const bad = await fetch(`${stack.gateways[0]?.url}/v1/tasks/${taskId}/stream?token=${encodeURIComponent(forged)}`);
    expect({ status: bad.status, body: await bad.json() }).toMatchObject({ status: 401, body: { error: { code: "token_invalid" } } });
  });

  it("as auth.token on Socket.IO: subscribe and replay its task only; every other command is forbidden; no owner notices", async () => {
    const { taskId } = await start("rt-dee", "/tools 2 sum 2+2");
    const { token } = (await mint("rt-dee", taskId)).body as { token: string };
    const reader = await socketWith(token, 1);
    expect(await reader.command("subscribe", { taskId, sinceSeq: 0 })).toMatchObject({ ok: true });
    const run = await reader.collectRun(taskId);
    expect(run.at(-1)?.type).toBe("agent_completed");
    const other = await start("rt-dee", "not yours");
    const refusals = [
      await reader.command("subscribe", { taskId: other.taskId }),
      await reader.command("user_message", { text: "hi", taskId }),
      await reader.command("cancel", { taskId }),
      await reader.command("user_response", { taskId, questionId: "q_1", response: "x" }),
    ];
    for (const ack of refusals) expect(ack).toMatchObject({ ok: false, error: { code: "forbidden" } });
    // A marker after the owner's new task: the reader never got its task_created.
    expect(await reader.command("ping", {})).toMatchObject({ ok: true });
    expect(reader.received.filter((m) => m.name === "task_created")).toEqual([]);
    expect(reader.events(other.taskId)).toEqual([]);
  });

  it("a revocation ends its streams and sockets on every gateway at once, and the token opens nothing after", async () => {
    const { taskId } = await start("rt-eli", "/slow /tools 30 sum 5+5");
    const { id, token } = (await mint("rt-eli", taskId)).body as { id: string; token: string };
    const q = encodeURIComponent(token);
    const onOther = stream(1, `/v1/tasks/${taskId}/stream?token=${q}`);
    const onSame = stream(0, `/v1/tasks/${taskId}/stream?token=${q}`);
    await Promise.all([onOther, onSame].map((s) => s.until((f) => f.some((x) => x.id !== undefined), 15_000, "an event")));
    const reader = await socketWith(token, 1);
    expect(await reader.command("subscribe", { taskId })).toMatchObject({ ok: true });

    expect((await stack.http(`/v1/tasks/${taskId}/read-tokens/${id}`, { userId: "rt-fox", method: "DELETE" })).status).toBe(403);
    expect(await stack.http(`/v1/tasks/${taskId}/read-tokens/${id}`, { userId: "rt-eli", method: "DELETE" })).toEqual({
      status: 204,
      body: undefined,
    });
    // Each wait fails after 5 s: "at once" is a notice on the task room's shard channel, not a poll.
    await withTimeout(Promise.all([onOther.ended, onSame.ended]), 5_000, "both streams to end");
    await reader.waitFor("error", (p) => (p as { code?: string }).code === "token_invalid", { timeoutMs: 5_000 });
    await until("the reader's socket to be disconnected", () => !reader.socket.connected, 5_000);
    for (const s of [onOther, onSame]) {
      expect(s.frames.at(-1)).toMatchObject({ event: "error" });
      expect(JSON.parse(s.frames.at(-1)?.data ?? "{}")).toMatchObject({ code: "token_invalid" });
    }
    // The run itself goes on for its owner.
    expect((await stack.http(`/v1/tasks/${taskId}`, { userId: "rt-eli" })).body.status).toBe("running");

    const after = await fetch(`${stack.gateways[1]?.url}/v1/tasks/${taskId}/stream?token=${q}`);
    expect({ status: after.status, body: await after.json() }).toMatchObject({ status: 401, body: { error: { code: "token_invalid" } } });
    const refused = await new GatewayTestClient({ url: stack.gateways[0]?.url ?? "", token }).connectExpectingError();
    expect(refused.data).toMatchObject({ code: "token_invalid" });
    expect((await stack.http(`/v1/tasks/${taskId}/read-tokens/${id}`, { userId: "rt-eli", method: "DELETE" })).status).toBe(404);
    await stack.http(`/v1/tasks/${taskId}/cancel`, { userId: "rt-eli", method: "POST" });
  });

  it("a task holds at most MAX_READ_TOKENS_PER_TASK live tokens; one expires on its own and ends its stream", async () => {
    const { taskId } = await start("rt-gil", "hello");
    const minted = [];
    for (let i = 0; i < 3; i++) minted.push((await mint("rt-gil", taskId, { ttlSeconds: i === 0 ? 1 : 600 })).body as { id: string });
    expect(await mint("rt-gil", taskId)).toMatchObject({ status: 429, body: { error: { code: "limit_exceeded" } } });
    const short = (minted[0] as unknown as { token: string }).token;
    const s = stream(0, `/v1/tasks/${taskId}/stream?token=${encodeURIComponent(short)}`);
    await s.ended;
    expect(s.status).toBe(200);
    expect(JSON.parse(s.frames.at(-1)?.data ?? "{}")).toMatchObject({ code: "token_expired" });
    // Expired: the place is free again; a revoked one frees its place too.
    expect((await mint("rt-gil", taskId)).status).toBe(201);
    expect((await stack.http(`/v1/tasks/${taskId}/read-tokens/${minted[1]?.id}`, { userId: "rt-gil", method: "DELETE" })).status).toBe(204);
    expect((await mint("rt-gil", taskId)).status).toBe(201);
    expect(await mint("rt-gil", taskId)).toMatchObject({ status: 429 });

    const metrics = await scrape(stack.gateways[0]?.metricsPort ?? 0);
    expect(value(metrics, "agentcast_gateway_read_tokens_total", { action: "refused" })).toBeGreaterThanOrEqual(2);
    expect(value(metrics, "agentcast_gateway_read_tokens_total", { action: "minted" })).toBeGreaterThanOrEqual(5);
    expect(value(metrics, "agentcast_gateway_http_streams_opened_total", { protocol: "sse" })).toBeGreaterThanOrEqual(1);
  });
});
