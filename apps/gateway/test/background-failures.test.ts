// Issue 13, item 11: work a gateway does in the background (a subscription's replay, here) is supervised:
// a failure is caught, logged with its context, counted, and the subscription is closed so the client
// resumes — the process and every other connection carry on. Real redis-server behind a proxy that fails
// exactly the history reads of one task, a real gateway process, real clients.
import { createKeys, EventPublisher, TaskStore } from "@agentcast/store";
import type { GatewayProcess } from "@agentcast/testkit";
import type { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { scrape, value } from "./metrics.js";
import { type ProxiedGateway, startProxiedGateway } from "./proxied-gateway.js";
import type { RedisFaultProxy } from "./redis-fault-proxy.js";

const keys = createKeys("ac");

describe("supervised background work", () => {
  let stack: ProxiedGateway;
  let proxy: RedisFaultProxy;
  let gateway: GatewayProcess;
  let direct: Redis;

  beforeAll(async () => {
    stack = await startProxiedGateway();
    ({ proxy, gateway, direct } = stack);
  });
  afterAll(() => stack?.stop());

  const client = (userId: string) => stack.client(userId);
  const task = async (userId: string, events: number) => {
    const tasks = new TaskStore(direct, { keys, historyTtlSeconds: 3_600 });
    const publisher = new EventPublisher(direct, { keys, historyMaxLen: 1_000, historyTtlSeconds: 3_600 });
    const { taskId, runId } = await tasks.createTask(userId, "history");
    await publisher.publish({ taskId, runId, userId, type: "agent_started", data: { input: "history" } });
    for (let i = 1; i < events; i++) await publisher.publish({ taskId, runId, userId, type: "agent_output", data: { delta: `${i}` } });
    return taskId;
  };
  const replayFailures = async () =>
    value(await scrape(gateway.metricsPort), "agentcast_gateway_background_failures_total", { job: "replay" });

  it("a replay whose history cannot be read: logged, counted once, the socket closed; the gateway and other sockets carry on", async () => {
    const broken = await task("eve", 5);
    const healthy = await task("fay", 3);
    const before = await replayFailures();
    // Every page read of this task's history fails (the ack's position read — XRANGE - + COUNT 1 — does not).
    const fault = proxy.failWhen((cmd) => cmd.name === "XRANGE" && cmd.args[0] === keys.events(broken) && cmd.args[1] !== "-");
    const eve = await client("eve");
    const disconnected = new Promise<string>((resolve) => eve.socket.once("disconnect", resolve));
    expect(await eve.command("subscribe", { taskId: broken })).toMatchObject({ ok: true, lastSeq: 5 });
    expect(await disconnected).toBe("io server disconnect");
    expect(fault.hits).toBeGreaterThan(1); // retried before giving up
    expect((await replayFailures()) - before).toBe(1);
    await expect
      .poll(() =>
        gateway.child.output.some((l) => l.includes("background job failed") && l.includes('"job":"replay"') && l.includes(broken)),
      )
      .toBe(true);

    // The gateway is up and serves everyone else…
    const fay = await client("fay");
    expect(await fay.command("subscribe", { taskId: healthy })).toMatchObject({ ok: true, lastSeq: 3 });
    await fay.waitFor("event", (p) => (p as { seq: number }).seq === 3);
    // …and once history can be read again, the closed client resumes with nothing lost.
    fault.stop();
    const again = await client("eve");
    expect(await again.command("subscribe", { taskId: broken })).toMatchObject({ ok: true, lastSeq: 5 });
    await again.waitFor("event", (p) => (p as { seq: number }).seq === 5);
    expect(again.events(broken).map((e) => e.seq)).toEqual([1, 2, 3, 4, 5]);
  });
});
