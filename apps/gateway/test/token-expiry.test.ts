import { GatewayTestClient, signDevToken } from "@agentcast/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Stack, startStack } from "./fixture.js";

describe("token expiry during a connection", () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ gateways: 1, workers: 1 });
  });
  afterAll(() => stack?.stop());
  const connect = async (user: string, expiresInSeconds: number) => {
    const c = new GatewayTestClient({ url: stack.gateways[0]?.url ?? "", token: await signDevToken(user, { expiresInSeconds }) });
    await c.connect();
    return c;
  };

  it("at exp the socket is told token_expired and disconnected", async () => {
    const c = await connect("exp-1", 2);
    const disconnected = new Promise<string>((resolve) => c.socket.once("disconnect", resolve));
    const err = await c.waitFor("error", (p) => (p as { code?: string }).code === "token_expired", { timeoutMs: 5_000 });
    expect(err.payload).toMatchObject({ code: "token_expired" });
    expect(await disconnected).toBe("io server disconnect");
  });

  it("auth_refresh before exp keeps the connection; another sub or a bad token is refused", async () => {
    const c = await connect("exp-2", 2);
    const token = (c.socket.auth as { token: string }).token;
    const firstExpMs = (JSON.parse(Buffer.from(token.split(".")[1] ?? "", "base64url").toString()) as { exp: number }).exp * 1000;
    expect(await c.command("auth_refresh", { token: await signDevToken("someone-else") })).toMatchObject({
      ok: false,
      error: { code: "forbidden" },
    });
    expect(await c.command("auth_refresh", { token: "garbage" })).toMatchObject({ ok: false, error: { code: "token_invalid" } });
    const ack = await c.command("auth_refresh", { token: await signDevToken("exp-2", { expiresInSeconds: 60 }) });
    expect(ack).toMatchObject({ ok: true, expiresAt: expect.any(Number) });
    // Deliberate pause: past the first token's exp, when the gateway would have disconnected the socket.
    // The ping after it is handled after that moment, so a token_expired and disconnect would come first.
    await new Promise((r) => setTimeout(r, Math.max(0, firstExpMs + 500 - Date.now())));
    expect(await c.command("ping")).toMatchObject({ ok: true });
    expect(c.socket.connected).toBe(true);
    expect(c.received.filter((m) => m.name === "error")).toEqual([]);
    c.disconnect();
  });
});
