// Issue 13 item 4: the per-user command limit holds whichever door a command comes in. Socket commands
// and HTTP requests of one user share one budget; an HTTP refusal is 429 `rate_limited` with the same
// error body as a socket's (retryAfterMs) plus a Retry-After header, and changes nothing.
import { signDevToken } from "@agentcast/testkit";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Stack, startStack } from "./fixture.js";
import { scrape, value } from "./metrics.js";

const BUDGET = 5;

/** What these requests answer: a started task, a page, or an error. */
interface Answer {
  taskId?: string;
  error?: { code: string; message: string; retryAfterMs: number };
}

describe("per-user command limit over HTTP and sockets", () => {
  let stack: Stack;
  let redis: Redis;
  beforeAll(async () => {
    stack = await startStack({ gateways: 2, workers: 0, gatewayEnv: { RATE_LIMIT_USER_COMMANDS_PER_MIN: String(BUDGET) } });
    redis = new Redis(stack.redis.url);
  });
  afterAll(async () => {
    redis?.disconnect();
    await stack?.stop();
  });
  const limited = async (gateway: number) =>
    value(await scrape(stack.gateways[gateway]?.metricsPort ?? 0), "agentcast_gateway_limits_total", { limit: "commands_per_user" });
  const request = async (userId: string, path: string, body?: unknown, gateway = 0) => {
    const res = await fetch(`${stack.gateways[gateway]?.url}${path}`, {
      method: body === undefined ? "GET" : "POST",
      headers: { authorization: `Bearer ${await signDevToken(userId)}`, "content-type": "application/json" },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: res.status, retryAfter: res.headers.get("retry-after"), body: (await res.json()) as Answer };
  };

  it("POST /v1/tasks alone: the budget, then 429 rate_limited with Retry-After; the refused request creates nothing", async () => {
    const user = "http-only";
    const statuses: number[] = [];
    for (let i = 0; i < BUDGET; i++) statuses.push((await request(user, "/v1/tasks", { text: `task ${i}` })).status);
    expect(statuses).toEqual(Array(BUDGET).fill(202));
    const before = await limited(1);
    const refused = await request(user, "/v1/tasks", { text: "one too many" }, 1); // the other gateway: the budget is shared
    expect(refused.status).toBe(429);
    const error = refused.body.error;
    expect(error).toMatchObject({ code: "rate_limited", message: expect.any(String), retryAfterMs: expect.any(Number) });
    const retryAfterMs = error?.retryAfterMs ?? 0;
    expect(retryAfterMs).toBeGreaterThan(0);
    expect(retryAfterMs).toBeLessThanOrEqual(60_000);
    expect(refused.retryAfter).toBe(String(Math.ceil(retryAfterMs / 1000)));
    expect(await limited(1)).toBe(before + 1);
    expect(await redis.zcard(`ac:user:{${user}}:tasks`)).toBe(BUDGET);
  });

  it("socket and HTTP commands of one user share one budget; every door then answers rate_limited; reads are not commands", async () => {
    const user = "both-doors";
    const socket = await stack.client(user, 1);
    expect(await socket.command("ping")).toMatchObject({ ok: true });
    expect(await socket.command("ping")).toMatchObject({ ok: true });
    const created = await request(user, "/v1/tasks", { text: "hello" });
    expect(created.status).toBe(202);
    // Reads change nothing and take nothing from the budget, however many.
    for (let i = 0; i < 2 * BUDGET; i++) expect((await request(user, "/v1/tasks")).status).toBe(200);
    expect((await request(user, `/v1/tasks/${created.body.taskId}/events`)).status).toBe(200);
    expect((await request(user, "/v1/tasks", { text: "fourth" })).status).toBe(202);
    expect((await request(user, "/v1/tasks", { text: "fifth" }, 1)).status).toBe(202);

    const post = await request(user, "/v1/tasks", { text: "again" });
    const ack = (await socket.command("ping")) as { ok: boolean; error?: { code: string; retryAfterMs?: number } };
    expect(post.status).toBe(429);
    expect(post.body).toMatchObject({ error: { code: "rate_limited", retryAfterMs: expect.any(Number) } });
    expect(ack).toMatchObject({ ok: false, error: { code: "rate_limited", retryAfterMs: expect.any(Number) } });
    expect((await request(user, `/v1/tasks/${created.body.taskId}`)).status).toBe(200);
    expect(await redis.zcard(`ac:user:{${user}}:tasks`)).toBe(3);
    // Another user's budget is untouched.
    expect((await request("someone-else", "/v1/tasks", { text: "mine" })).status).toBe(202);
  });
});
