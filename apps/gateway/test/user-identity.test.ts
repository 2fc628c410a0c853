// Issue 13 item 1: a user id has one representation everywhere. A `sub` holding a lone UTF-16
// surrogate turns into U+FFFD on its way to Redis, so it would share every key (and every byte-wise
// owner check in Lua) with the user whose `sub` holds U+FFFD: refused at the door, socket and HTTP.
// And `sub` is 1–256 characters counted as the docs say (code points: an emoji is one).
import { DEV_JWT_SECRET, GatewayTestClient, signDevToken } from "@agentcast/testkit";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTokenVerifier } from "../src/auth/token-verifier.js";
import { type Stack, startStack } from "./fixture.js";

const VICTIM = "<p>\uFFFD";
const ATTACKER = "<p>\uD800"; // becomes "<p>\uFFFD" once encoded as UTF-8
const emoji = (n: number) => "😀".repeat(n); // 1 code point, 2 UTF-16 units each

describe("the token's sub as user id", () => {
  const verify = createTokenVerifier({ secret: DEV_JWT_SECRET });
  it.each([
    ["a lone high surrogate", "token_invalid", ATTACKER],
    ["a lone low surrogate", "token_invalid", "x\uDE00y"],
    ["a high surrogate at the end", "token_invalid", `${emoji(3)}\uD83D`],
    ["U+FFFD itself", "ok", VICTIM],
    ["200 emoji (400 UTF-16 units)", "ok", emoji(200)],
    ["256 emoji", "ok", emoji(256)],
    ["257 emoji", "token_invalid", emoji(257)],
    ["256 ASCII characters", "ok", "a".repeat(256)],
    ["257 ASCII characters", "token_invalid", "a".repeat(257)],
    ["empty", "token_invalid", ""],
  ])("%s → %s", async (_, expected, sub) => {
    const result = await verify(await signDevToken(sub));
    expect(result.ok ? "ok" : result.code).toBe(expected);
    if (result.ok) expect(result.userId).toBe(sub);
  });
});

describe("one identity per user, end to end (real gateway, Redis)", () => {
  let stack: Stack;
  let redis: Redis;
  beforeAll(async () => {
    stack = await startStack({ gateways: 1, workers: 0 });
    redis = new Redis(stack.redis.url);
  });
  afterAll(async () => {
    redis?.disconnect();
    await stack?.stop();
  });
  const url = () => stack.gateways[0]?.url ?? "";

  it("a sub with a lone surrogate is refused at connect and over HTTP; the victim's task stays theirs", async () => {
    const victim = await stack.client(VICTIM);
    expect(victim.established?.userId).toBe(VICTIM);
    const created = await stack.http("/v1/tasks", { userId: VICTIM, body: { text: "the victim's task" } });
    expect(created.status).toBe(202);
    const taskId = created.body.taskId as string;

    const attackerToken = await signDevToken(ATTACKER);
    const attacker = new GatewayTestClient({ url: url(), token: attackerToken });
    const err = await attacker.connectExpectingError();
    attacker.disconnect();
    expect({ message: err.message, code: err.data?.code }).toEqual({ message: "unauthorized", code: "token_invalid" });

    for (const [path, body] of [
      ["/v1/tasks", undefined],
      [`/v1/tasks/${taskId}`, undefined],
      [`/v1/tasks/${taskId}/events`, undefined],
      ["/v1/tasks", { text: "a follow-up on the victim's task", taskId }],
    ] as const) {
      const res = await stack.http(path, { token: attackerToken, ...(body ? { body } : {}) });
      expect({ path, status: res.status, code: res.body?.error?.code }).toEqual({ path, status: 401, code: "token_invalid" });
    }
    // Nothing changed: one task, one run, and the victim still reads it.
    const listed = await stack.http("/v1/tasks", { userId: VICTIM });
    expect(listed.body.tasks.map((t: { taskId: string; runs: number }) => [t.taskId, t.runs])).toEqual([[taskId, 1]]);
    expect(await redis.zcard(`ac:user:{${VICTIM}}:tasks`)).toBe(1);
  });

  it("200 emoji (400 UTF-16 units) are a valid user id: connect, create, list; its keys hold exactly that id", async () => {
    const sub = emoji(200);
    const c = await stack.client(sub);
    expect(c.established?.userId).toBe(sub);
    const created = await stack.http("/v1/tasks", { userId: sub, body: { text: "hello" } });
    expect(created.status).toBe(202);
    const listed = await stack.http("/v1/tasks", { userId: sub });
    expect(listed.body.tasks.map((t: { taskId: string }) => t.taskId)).toEqual([created.body.taskId]);
    // The owner Lua wrote, read back byte for byte, is the JavaScript string.
    expect(await redis.hget(`ac:{${created.body.taskId}}:task`, "userId")).toBe(sub);

    const tooLong = new GatewayTestClient({ url: url(), token: await signDevToken(emoji(257)) });
    const err = await tooLong.connectExpectingError();
    tooLong.disconnect();
    expect(err.data?.code).toBe("token_invalid");
  });
});
