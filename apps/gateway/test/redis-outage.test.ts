import { validateRunEvents } from "@agentcast/protocol";
import { jsonLine, until } from "@agentcast/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Stack, seqProblem, startStack } from "./fixture.js";
import { scrape, value } from "./metrics.js";

const SF = "agentcast_silent_failures_total";

describe("Redis outages: redis_error counts each outage once per process, and the user sees the run end", () => {
  let stack: Stack;
  const workerEnv = { RUN_STALL_TIMEOUT_MS: "1000", CONTROL_POLL_MS: "100", JOB_LOCK_MS: "1000" };
  const scrapeAll = () =>
    Promise.all([...stack.gateways.map((g) => scrape(g.metricsPort)), scrape(stack.workers[0]?.metricsPort ?? 0)]) as Promise<
      [Map<string, number>, Map<string, number>, Map<string, number>]
    >;
  const gf = (m: Map<string, number>, kind: string) => value(m, SF, { component: "gateway", kind });
  const wf = (m: Map<string, number>, kind: string) => value(m, SF, { component: "worker", kind });
  /** How many times each process logged `msg` so far (gateways first, then the worker). */
  const logged = (msg: string) =>
    [...stack.gateways, ...stack.workers].map((p) => p.child.output.filter((l) => jsonLine(l)?.msg === msg).length);
  const restoredEverywhere = (times: number) => async () => logged("redis connection restored").every((n) => n === times);
  const readyz = (gateway: number) => stack.http("/readyz", { gateway }).then((r) => r.status);

  beforeAll(async () => {
    stack = await startStack({ gateways: 2, workers: 1, workerEnv });
  });
  afterAll(() => stack?.stop());

  it("a healthy start counts no outage", async () => {
    const [g0, g1, w] = await scrapeAll();
    expect([gf(g0, "redis_error"), gf(g1, "redis_error"), wf(w, "redis_error")]).toEqual([0, 0, 0]);
    expect(logged("redis connection lost")).toEqual([0, 0, 0]);
  });

  it("mid-run outage: exactly 1 redis_error per process, commands answer unavailable, the run ends visibly and gapless", async () => {
    const [g0, g1, w0] = await scrapeAll();
    const alice = await stack.client("alice", 0);
    const ack = await alice.command("user_message", { text: "/slow /tools 3 what is 8*8" });
    if (!ack.ok) throw new Error(JSON.stringify(ack));
    let disconnects = 0;
    alice.socket.on("disconnect", () => disconnects++);
    await alice.waitForEvent("tool_executing", ack.taskId);
    await stack.redis.stop();
    await until("readyz 503 on both gateways", async () => (await readyz(0)) === 503 && (await readyz(1)) === 503);
    expect(value((await scrapeAll())[0], "agentcast_gateway_redis_up")).toBe(0);
    expect(await alice.command("user_message", { text: "while down" }, 10_000)).toMatchObject({
      ok: false,
      error: { code: "unavailable" },
    });
    await until("publish_failed", async () => wf((await scrapeAll())[2], "publish_failed") > wf(w0, "publish_failed"), 10_000);
    // Down for seconds: ioredis errored on every reconnect attempt, yet each process counted one outage.
    const [d0, d1, dw] = await scrapeAll();
    expect([gf(d0, "redis_error") - gf(g0, "redis_error"), gf(d1, "redis_error") - gf(g1, "redis_error")]).toEqual([1, 1]);
    expect(wf(dw, "redis_error") - wf(w0, "redis_error")).toBe(1);
    expect(logged("redis connection lost")).toEqual([1, 1, 1]);

    await stack.redis.restart();
    await until("every process to log its Redis connections restored", restoredEverywhere(1), 20_000);
    expect([await readyz(0), await readyz(1)]).toEqual([200, 200]);
    const [a0, a1, aw] = await scrapeAll();
    expect(value(a0, "agentcast_gateway_redis_up")).toBe(1);
    expect([gf(a0, "redis_error") - gf(g0, "redis_error"), gf(a1, "redis_error") - gf(g1, "redis_error")]).toEqual([1, 1]);
    expect(wf(aw, "redis_error") - wf(w0, "redis_error")).toBe(1);
    const restored = stack.workers[0]?.child.output.map(jsonLine).find((r) => r?.msg === "redis connection restored");
    expect(restored).toMatchObject({ level: 30, downMs: expect.any(Number) });

    // What the user sees: her socket stayed open; the run she watched ends with one terminal event, every
    // seq once and in order (the gateway re-read history after its subscriber reconnected).
    const run = await alice.collectRun(ack.taskId, 20_000);
    expect([disconnects, alice.socket.connected]).toEqual([0, true]);
    expect(validateRunEvents(run)).toEqual([]);
    expect(
      seqProblem(
        run.map((e) => e.seq),
        1,
        run.length,
      ),
    ).toBeNull();
    expect(run.filter((e) => e.type === "agent_completed" || e.type === "agent_error")).toHaveLength(1);
    // The job failed while Redis was down; its retry found the run started and ended it.
    expect(run.at(-1)).toMatchObject({ type: "agent_error", data: { code: "run_stalled", retryable: true } });
    const task = await stack.http(`/v1/tasks/${ack.taskId}`, { userId: "alice" });
    expect(task.body).toMatchObject({ status: "failed", lastSeq: run.length });
  });

  it("a second outage (idle) adds exactly 1 more per process; new runs work after it", async () => {
    const [g0, g1, w0] = await scrapeAll();
    await stack.redis.stop();
    await until("readyz 503 on both gateways", async () => (await readyz(0)) === 503 && (await readyz(1)) === 503);
    await until("every process to log the second loss", async () => logged("redis connection lost").every((n) => n === 2), 10_000);
    await new Promise((r) => setTimeout(r, 1_500)); // several reconnect attempts fail meanwhile
    await stack.redis.restart();
    await until("every process to log its Redis connections restored again", restoredEverywhere(2), 20_000);
    const [a0, a1, aw] = await scrapeAll();
    expect([gf(a0, "redis_error") - gf(g0, "redis_error"), gf(a1, "redis_error") - gf(g1, "redis_error")]).toEqual([1, 1]);
    expect(wf(aw, "redis_error") - wf(w0, "redis_error")).toBe(1);
    expect([gf(a0, "redis_error"), gf(a1, "redis_error"), wf(aw, "redis_error")]).toEqual([2, 2, 2]);
    const fresh = await stack.client("bob", 1);
    const again = await fresh.command("user_message", { text: "after the outage 1+1" });
    if (!again.ok) throw new Error(JSON.stringify(again));
    const run = await fresh.collectRun(again.taskId);
    expect(validateRunEvents(run)).toEqual([]);
    expect(run.at(-1)).toMatchObject({ type: "agent_completed", data: { status: "succeeded" } });
  });
});
