import { GatewayTestClient, signDevToken, until } from "@agentcast/testkit";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Stack, startStack } from "./fixture.js";
import { scrape, value } from "./metrics.js";

describe("abuse limits", () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({
      gateways: 2,
      workers: 1,
      gatewayEnv: {
        RATE_LIMIT_COMMANDS_PER_SEC: "5",
        RATE_LIMIT_COMMANDS_BURST: "10",
        RATE_LIMIT_USER_COMMANDS_PER_MIN: "40",
        MAX_CONNECTIONS_PER_USER: "3",
        MAX_SUBSCRIPTIONS_PER_SOCKET: "2",
        CONNECT_RATE_PER_IP_PER_SEC: "1",
        CONNECT_BURST_PER_IP: "25",
        CORS_ORIGINS: "https://console.example",
      },
    });
  });
  afterAll(() => stack?.stop());
  const limits = async (gateway: number, limit: string) =>
    value(await scrape(stack.gateways[gateway]?.metricsPort ?? 0), "agentcast_gateway_limits_total", { limit });

  it("per socket: a burst beyond the bucket answers rate_limited with a retry hint; the socket keeps working", async () => {
    const before = await limits(0, "commands_per_socket");
    const c = await stack.client("rl-socket", 0);
    const acks = (await Promise.all(Array.from({ length: 16 }, () => c.command("ping")))) as {
      ok: boolean;
      error?: { code: string; retryAfterMs?: number };
    }[];
    const refused = acks.filter((a) => !a.ok);
    expect(acks.filter((a) => a.ok).length).toBe(10);
    expect(refused.length).toBe(6);
    expect(refused[0]?.error).toMatchObject({ code: "rate_limited", retryAfterMs: expect.any(Number) });
    expect(await limits(0, "commands_per_socket")).toBe(before + 6);
    // Deliberate pause: as long as the refusals said to wait, then a command is admitted again.
    const retryAfterMs = Math.max(...refused.map((a) => a.error?.retryAfterMs ?? Number.POSITIVE_INFINITY));
    expect(retryAfterMs).toBeLessThanOrEqual(200); // one token at 5/s
    await new Promise((r) => setTimeout(r, retryAfterMs));
    expect(await c.command("ping")).toMatchObject({ ok: true });
  });

  it("per user across gateways: the minute budget is shared by sockets on both gateways", async () => {
    const a = await stack.client("rl-user", 0);
    const b = await stack.client("rl-user", 1);
    let ok = 0;
    let limited = 0;
    let retryAfterMs = 0;
    for (let i = 0; i < 25; i++) {
      for (const c of [a, b]) {
        const ack = (await c.command("ping")) as { ok: boolean; error?: { code: string; retryAfterMs?: number } };
        if (ack.ok) ok++;
        else if (ack.error?.code === "rate_limited") {
          limited++;
          retryAfterMs = ack.error.retryAfterMs ?? 0;
        }
      }
      await new Promise((r) => setTimeout(r, 220)); // deliberate pacing: stay under the per-socket rate (5/s)
    }
    // A sliding window: exactly the budget in any 60 s, whatever the wall clock's minute boundaries.
    expect(ok).toBe(40);
    expect(limited).toBe(10);
    // The hint is when the oldest command leaves the window: ~60 s after the first, minus the seconds spent.
    expect(retryAfterMs).toBeGreaterThan(45_000);
    expect(retryAfterMs).toBeLessThanOrEqual(60_000);
  });

  it("concurrent connections per user across gateways, and a subscription cap per socket", async () => {
    const held = [await stack.client("rl-conn", 0), await stack.client("rl-conn", 1), await stack.client("rl-conn", 0)];
    const fourth = new GatewayTestClient({ url: stack.gateways[1]?.url ?? "", token: await signDevToken("rl-conn") });
    const err = await fourth.connectExpectingError();
    expect({ message: err.message, code: err.data?.code }).toEqual({ message: "limit_exceeded", code: "limit_exceeded" });
    held[0]?.disconnect();
    const leases = new Redis(stack.redis.url);
    try {
      await until("the closed connection's lease to be released", async () => (await leases.zcard("ac:user:{rl-conn}:connections")) === 2);
    } finally {
      leases.disconnect();
    }
    const again = new GatewayTestClient({ url: stack.gateways[1]?.url ?? "", token: await signDevToken("rl-conn") });
    expect(await again.connect()).toMatchObject({ userId: "rl-conn" });
    again.disconnect();

    const s = held[1] as GatewayTestClient;
    const tasks: string[] = [];
    for (let i = 0; i < 3; i++) tasks.push((await stack.http("/v1/tasks", { userId: "rl-conn", body: { text: `t${i}` } })).body.taskId);
    expect(await s.command("subscribe", { taskId: tasks[0] })).toMatchObject({ ok: true });
    expect(await s.command("subscribe", { taskId: tasks[1] })).toMatchObject({ ok: true });
    expect(await s.command("subscribe", { taskId: tasks[2] })).toMatchObject({ ok: false, error: { code: "limit_exceeded" } });
    expect(await s.command("unsubscribe", { taskId: tasks[0] })).toMatchObject({ ok: true });
    expect(await s.command("subscribe", { taskId: tasks[2] })).toMatchObject({ ok: true });
  });

  it("origin allowlist for websocket and polling; no Origin header (non-browser) passes", async () => {
    const before = await limits(0, "origin");
    const token = await signDevToken("rl-origin");
    for (const transports of [["websocket"], ["polling"]] as const) {
      const evil = new GatewayTestClient({
        url: stack.gateways[0]?.url ?? "",
        token,
        transports: [...transports],
        extra: { extraHeaders: { origin: "https://evil.example" } },
      });
      // Refused at the handshake (a connect_error from the transport), not a connect that timed out.
      await expect(evil.connect(2_000)).rejects.toThrow(transports[0] === "websocket" ? "websocket error" : "xhr poll error");
      evil.disconnect();
      const good = new GatewayTestClient({
        url: stack.gateways[0]?.url ?? "",
        token,
        transports: [...transports],
        extra: { extraHeaders: { origin: "https://console.example" } },
      });
      expect(await good.connect()).toMatchObject({ userId: "rl-origin" });
      good.disconnect();
    }
    expect(await limits(0, "origin")).toBe(before + 2);
  });

  it("new connections per IP: beyond the burst, handshakes are refused", async () => {
    const before = await limits(1, "connections_per_ip");
    const results = await Promise.all(
      Array.from({ length: 40 }, async () => {
        const c = new GatewayTestClient({ url: stack.gateways[1]?.url ?? "", token: await signDevToken(`rl-ip-${Math.random()}`) });
        try {
          await c.connect(3_000);
          return "ok";
        } catch (err) {
          return (err as Error).message;
        } finally {
          c.disconnect();
        }
      }),
    );
    // Each attempt either connected or was refused at the handshake (no timeouts, no other failure).
    const refused = results.filter((r) => r === "websocket error").length;
    expect(results.filter((r) => r !== "ok" && r !== "websocket error")).toEqual([]);
    expect(refused).toBeGreaterThan(0);
    expect(await limits(1, "connections_per_ip")).toBe(before + refused);
  });
});
