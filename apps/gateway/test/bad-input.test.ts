import { LIMITS } from "@agentcast/protocol";
import { DEV_JWT_SECRET, GatewayTestClient, signDevToken } from "@agentcast/testkit";
import { generateKeyPair, SignJWT } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Stack, startStack } from "./fixture.js";

const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString("base64url");

describe("bad input: a clear coded error, and nothing else changes", () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ gateways: 1, workers: 1 });
  });
  afterAll(() => stack?.stop());

  const refused = async (token: string | undefined, extra: Record<string, unknown> = {}) => {
    const c = new GatewayTestClient({ url: stack.gateways[0]?.url ?? "", ...(token === undefined ? {} : { token }), extra });
    const err = await c.connectExpectingError();
    c.disconnect();
    return { message: err.message, code: err.data?.code };
  };

  it("refuses handshakes: no token, bad signature, expired, alg none, RS256 to an HS256 gateway, garbage", async () => {
    const now = Math.floor(Date.now() / 1000);
    const { privateKey } = await generateKeyPair("RS256");
    const rs = await new SignJWT({})
      .setProtectedHeader({ alg: "RS256" })
      .setSubject("mallory")
      .setExpirationTime(now + 60)
      .sign(privateKey);
    const forged = await signDevToken("mallory", { secret: "not-the-secret-0123456789-0123456789" });
    const none = `${b64({ alg: "none", typ: "JWT" })}.${b64({ sub: "mallory", exp: now + 60 })}.`;
    expect(await refused(undefined)).toEqual({ message: "unauthorized", code: "token_missing" });
    expect(await refused("")).toEqual({ message: "unauthorized", code: "token_missing" });
    expect(await refused(forged)).toEqual({ message: "unauthorized", code: "token_invalid" });
    expect(await refused(await signDevToken("mallory", { expiresInSeconds: -60 }))).toEqual({
      message: "unauthorized",
      code: "token_expired",
    });
    expect(await refused(none)).toEqual({ message: "unauthorized", code: "token_invalid" });
    expect(await refused(rs)).toEqual({ message: "unauthorized", code: "token_invalid" });
    expect(await refused("not.a.jwt")).toEqual({ message: "unauthorized", code: "token_invalid" });
    const noSub = await new SignJWT({})
      .setProtectedHeader({ alg: "HS256" })
      .setExpirationTime(now + 60)
      .sign(new TextEncoder().encode(DEV_JWT_SECRET));
    expect(await refused(noSub)).toEqual({ message: "unauthorized", code: "token_invalid" });
  });

  it("accepts the token from an Authorization: Bearer header", async () => {
    const c = new GatewayTestClient({
      url: stack.gateways[0]?.url ?? "",
      extra: { extraHeaders: { authorization: `Bearer ${await signDevToken("header-user")}` } },
    });
    expect(await c.connect()).toMatchObject({ userId: "header-user" });
    c.disconnect();
  });

  it("answers every malformed command with a coded error; the socket and other users carry on", async () => {
    const bob = await stack.client("bob");
    const bobRun = await bob.command("user_message", { text: "/tools 10 what is 5*5" });
    if (!bobRun.ok) throw new Error(JSON.stringify(bobRun));
    const alice = await stack.client("alice");
    const huge = "x".repeat(LIMITS.maxTextChars + 1);
    const cases: [string, unknown, string][] = [
      ["user_message", undefined, "invalid_payload"],
      ["user_message", null, "invalid_payload"],
      ["user_message", "hello", "invalid_payload"],
      ["user_message", 42, "invalid_payload"],
      ["user_message", [], "invalid_payload"],
      ["user_message", {}, "invalid_payload"],
      ["user_message", { text: 5 }, "invalid_payload"],
      ["user_message", { text: "   " }, "invalid_payload"],
      ["user_message", { text: "ok", taskId: 5 }, "invalid_payload"],
      ["user_message", { text: "ok", taskId: "../../etc" }, "invalid_payload"],
      ["user_message", { text: "ok", taskid: "t_typo" }, "invalid_payload"],
      ["user_message", JSON.parse('{"text":"ok","__proto__":{"admin":true}}'), "invalid_payload"],
      ["user_message", JSON.parse('{"text":"ok","constructor":{"prototype":{"admin":true}}}'), "invalid_payload"],
      ["user_message", { text: huge }, "payload_too_large"],
      ["subscribe", {}, "invalid_payload"],
      ["subscribe", { taskId: 1 }, "invalid_payload"],
      ["subscribe", { taskId: "t_x", sinceSeq: -1 }, "invalid_payload"],
      ["subscribe", { taskId: "t_x", sinceSeq: 1.5 }, "invalid_payload"],
      ["subscribe", { taskId: "t_x", sinceSeq: "3" }, "invalid_payload"],
      ["subscribe", { taskId: "x".repeat(65) }, "invalid_payload"],
      ["unsubscribe", {}, "invalid_payload"],
      ["unsubscribe", { taskId: null }, "invalid_payload"],
      ["cancel", {}, "invalid_payload"],
      ["cancel", { taskId: [] }, "invalid_payload"],
      ["user_response", {}, "invalid_payload"],
      ["user_response", { taskId: "t_x" }, "invalid_payload"],
      ["user_response", { taskId: "t_x", questionId: "q_1", response: 5 }, "invalid_payload"],
      ["user_response", { taskId: "t_x", questionId: "q_1", response: huge }, "payload_too_large"],
      ["ping", "now", "invalid_payload"],
      ["agent_started", { input: "fake" }, "unknown_event"],
      ["agent_completed", { status: "succeeded" }, "unknown_event"],
      ["event", { type: "agent_output" }, "unknown_event"],
      ["hello", {}, "unknown_event"],
    ];
    for (const [name, payload, code] of cases) {
      const ack = (await alice.raw(name, payload)) as { ok: boolean; error?: { code: string; message: string } };
      expect({ name, payload: String(JSON.stringify(payload)).slice(0, 40), ack }).toEqual({
        name,
        payload: String(JSON.stringify(payload)).slice(0, 40),
        ack: { ok: false, error: { code, message: expect.any(String) } },
      });
      expect(alice.socket.connected).toBe(true);
    }
    // Unknown events also get an `error` event naming them.
    const err = await alice.waitFor("error", (p) => (p as { event?: string }).event === "agent_started");
    expect(err.payload).toMatchObject({ code: "unknown_event", event: "agent_started" });
    // Without an ack callback, failures arrive as `error` events.
    alice.socket.emit("subscribe", { taskId: 7 });
    expect((await alice.waitFor("error", (p) => (p as { event?: string }).event === "subscribe")).payload).toMatchObject({
      code: "invalid_payload",
    });
    alice.socket.emit("whatever");
    expect((await alice.waitFor("error", (p) => (p as { event?: string }).event === "whatever")).payload).toMatchObject({
      code: "unknown_event",
    });

    // The socket still works, and nothing was created by any of it.
    expect(await alice.command("ping")).toMatchObject({ ok: true, ts: expect.any(Number) });
    await alice.waitFor("pong");
    expect(alice.events()).toEqual([]);
    expect((await stack.http("/v1/tasks", { userId: "alice" })).body.tasks).toEqual([]);
    const ok = await alice.command("user_message", { text: "still fine: 2+2" });
    if (!ok.ok) throw new Error(JSON.stringify(ok));
    expect((await alice.collectRun(ok.taskId)).at(-1)?.type).toBe("agent_completed");
    // Bob's run, streaming meanwhile, completed normally.
    expect((await bob.collectRun(bobRun.taskId)).at(-1)).toMatchObject({ type: "agent_completed", data: { status: "succeeded" } });
  });

  it("accepts text exactly at the limit", async () => {
    const c = await stack.client("limit");
    const ack = await c.command("user_message", { text: "y".repeat(LIMITS.maxTextChars) });
    expect(ack).toMatchObject({ ok: true });
  });
});
