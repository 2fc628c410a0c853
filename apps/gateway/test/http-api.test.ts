import { type EventEnvelope, LIMITS, validateRunEvents } from "@agentcast/protocol";
import { signDevToken } from "@agentcast/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Stack, startStack } from "./fixture.js";

describe("HTTP API", () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ gateways: 2, workers: 1 });
  });
  afterAll(() => stack?.stop());

  it("healthz and readyz answer without a token", async () => {
    expect(await stack.http("/healthz")).toEqual({ status: 200, body: { status: "ok", gatewayId: "gw-1" } });
    expect(await stack.http("/readyz", { gateway: 1 })).toEqual({
      status: 200,
      body: { ready: true, redis: true, draining: false, gatewayId: "gw-2" },
    });
  });

  it("POST /v1/tasks starts a run like user_message; the owner's sockets on every gateway learn of it", async () => {
    const watchers = await Promise.all([stack.client("hana", 0), stack.client("hana", 1)]);
    const res = await stack.http("/v1/tasks", { userId: "hana", body: { text: "what is 10/4" } });
    expect(res).toMatchObject({ status: 202, body: { taskId: expect.stringMatching(/^t_/), runId: expect.stringMatching(/^r_/) } });
    const { taskId, runId } = res.body as { taskId: string; runId: string };
    for (const w of watchers) {
      const notice = await w.waitFor("task_created", (p) => (p as { taskId: string }).taskId === taskId);
      expect(notice.payload).toMatchObject({ taskId, runId, title: "what is 10/4", createdAt: expect.any(Number) });
      expect(await w.command("subscribe", { taskId })).toMatchObject({ ok: true });
    }
    const runs = await Promise.all(watchers.map((w) => w.collectRun(taskId)));
    expect(runs[0]).toEqual(runs[1]);
    expect(runs[0]?.at(-1)).toMatchObject({ type: "agent_completed", data: { result: { answer: "10/4 = 2.5" } } });

    const events = await stack.http(`/v1/tasks/${taskId}/events?sinceSeq=0`, { userId: "hana", gateway: 1 });
    expect(events.status).toBe(200);
    expect(events.body.events).toEqual(runs[0]);
    expect(validateRunEvents(events.body.events as EventEnvelope[])).toEqual([]);
    const tail = await stack.http(`/v1/tasks/${taskId}/events?sinceSeq=3&limit=2`, { userId: "hana" });
    expect(tail.body.events.map((e: EventEnvelope) => e.seq)).toEqual([4, 5]);
    expect(tail.body.nextSinceSeq).toBe(5);
    expect(await stack.http(`/v1/tasks/${taskId}`, { userId: "hana" })).toMatchObject({
      status: 200,
      body: { taskId, status: "succeeded", lastSeq: runs[0]?.length, runId },
    });
  });

  it("GET /v1/tasks lists the caller's tasks newest first, paginated", async () => {
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      const res = await stack.http("/v1/tasks", { userId: "ivan", body: { text: `task ${i}` } });
      ids.push(res.body.taskId);
    }
    const page1 = await stack.http("/v1/tasks?limit=2", { userId: "ivan" });
    expect(page1.body.tasks.map((t: { taskId: string }) => t.taskId)).toEqual([ids[4], ids[3]]);
    const page2 = await stack.http(`/v1/tasks?limit=2&cursor=${page1.body.nextCursor}`, { userId: "ivan" });
    expect(page2.body.tasks.map((t: { taskId: string }) => t.taskId)).toEqual([ids[2], ids[1]]);
    const page3 = await stack.http(`/v1/tasks?limit=2&cursor=${page2.body.nextCursor}`, { userId: "ivan" });
    expect(page3.body).toMatchObject({ tasks: [{ taskId: ids[0], title: "task 0" }], nextCursor: null });
    expect((await stack.http("/v1/tasks", { userId: "nobody" })).body).toEqual({ tasks: [], nextCursor: null });
  });

  it("answers bad requests with coded errors", async () => {
    const expired = await signDevToken("ivan", { expiresInSeconds: -10 });
    expect(await stack.http("/v1/tasks")).toMatchObject({ status: 401, body: { error: { code: "token_missing" } } });
    expect(await stack.http("/v1/tasks", { token: expired })).toMatchObject({ status: 401, body: { error: { code: "token_expired" } } });
    expect(await stack.http("/v1/tasks", { token: "garbage" })).toMatchObject({ status: 401, body: { error: { code: "token_invalid" } } });
    expect(await stack.http("/v1/tasks", { userId: "ivan", body: { text: 3 } })).toMatchObject({
      status: 400,
      body: { error: { code: "invalid_payload" } },
    });
    expect(await stack.http("/v1/tasks", { userId: "ivan", body: { text: "z".repeat(LIMITS.maxTextChars + 1) } })).toMatchObject({
      status: 413,
      body: { error: { code: "payload_too_large" } },
    });
    expect(await stack.http("/v1/tasks?limit=0", { userId: "ivan" })).toMatchObject({
      status: 400,
      body: { error: { code: "invalid_payload" } },
    });
    expect(await stack.http("/v1/nope", { userId: "ivan" })).toMatchObject({ status: 404, body: { error: { code: "not_found" } } });
    const raw = await fetch(`${stack.gateways[0]?.url}/v1/tasks`, {
      method: "POST",
      headers: { authorization: `Bearer ${await signDevToken("ivan")}`, "content-type": "application/json" },
      body: "{not json",
    });
    expect(raw.status).toBe(400);
  });

  it("malformed percent-encoding in a task path is 400 invalid_payload; outside /v1/ it is 404 — never 500", async () => {
    for (const path of ["/v1/tasks/%E0%A4%A", "/v1/tasks/%E0%A4%A/events", "/v1/tasks/%/events"]) {
      expect({ path, res: await stack.http(path, { userId: "ivan" }) }).toMatchObject({
        path,
        res: { status: 400, body: { error: { code: "invalid_payload" } } },
      });
    }
    expect(await stack.http("/%E0%A4%A")).toMatchObject({ status: 404, body: { error: { code: "not_found" } } });
    expect((await stack.http("/healthz")).status).toBe(200);
  });

  it("the route table: probes answer GET and HEAD; another method on a route is 404 not_found; a 65-character task id is invalid_payload", async () => {
    const url = stack.gateways[0]?.url ?? "";
    for (const path of ["/healthz", "/readyz"]) {
      const head = await fetch(`${url}${path}`, { method: "HEAD" });
      expect({ path, status: head.status, body: await head.text() }).toEqual({ path, status: 200, body: "" });
    }
    const token = await signDevToken("ivan");
    for (const [method, path] of [
      ["DELETE", "/v1/tasks"],
      ["PUT", "/v1/tasks/t1/cancel"],
      ["POST", "/healthz"],
      ["GET", "/v1/chat"],
    ] as const) {
      const res = await fetch(`${url}${path}`, { method, headers: { authorization: `Bearer ${token}` } });
      expect({ method, path, status: res.status, body: await res.json() }).toMatchObject({
        method,
        path,
        status: 404,
        body: { error: { code: "not_found" } },
      });
    }
    expect(await stack.http(`/v1/tasks/${"a".repeat(65)}`, { userId: "ivan" })).toMatchObject({
      status: 400,
      body: { error: { code: "invalid_payload" } },
    });
  });

  it("an Idempotency-Key that is not an id is refused (invalid_payload) and starts nothing, however often it is sent", async () => {
    const token = await signDevToken("kim");
    const post = async (key: string, body: Record<string, unknown> = { text: "what is 1+1" }) => {
      const res = await fetch(`${stack.gateways[0]?.url}/v1/tasks`, {
        method: "POST",
        headers: { authorization: `Bearer ${token}`, "content-type": "application/json", "idempotency-key": key },
        body: JSON.stringify(body),
      });
      return { status: res.status, body: (await res.json()) as unknown };
    };
    const refusal = { status: 400, body: { error: { code: "invalid_payload", message: expect.stringContaining("Idempotency-Key") } } };
    for (const key of ["k".repeat(80), "order.1234", "key with space", ""]) {
      expect({ key, first: await post(key), again: await post(key) }).toMatchObject({ key, first: refusal, again: refusal });
    }
    // A header and a body messageId that disagree name two ids for one message: refused too.
    expect(await post("k-1", { text: "what is 1+1", messageId: "k-2" })).toMatchObject(refusal);
    expect((await stack.http("/v1/tasks", { userId: "kim" })).body).toEqual({ tasks: [], nextCursor: null });
    // The same id in both places is one message.
    const first = await post("k-3", { text: "what is 1+1", messageId: "k-3" });
    expect(first).toMatchObject({ status: 202 });
    expect(await post("k-3")).toMatchObject({ status: 202, body: { ...(first.body as object), duplicate: true } });
    expect((await stack.http("/v1/tasks", { userId: "kim" })).body.tasks).toHaveLength(1);
  });
});
