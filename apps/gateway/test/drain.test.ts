import type { EventEnvelope } from "@agentcast/protocol";
import { GatewayTestClient, signDevToken, startWorkerProcess, until } from "@agentcast/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Stack, seqProblem, startStack } from "./fixture.js";

const isTerminal = (e: EventEnvelope) => e.type === "agent_completed" || e.type === "agent_error";

describe("gateway drain on SIGTERM", () => {
  let stack: Stack;
  beforeAll(async () => {
    // All 500 test clients share 127.0.0.1: lift the per-IP connection rate for this test.
    stack = await startStack({
      gateways: 2,
      workers: 1,
      gatewayEnv: { DRAIN_WINDOW_MS: "2000", CONNECT_RATE_PER_IP_PER_SEC: "100000", CONNECT_BURST_PER_IP: "100000" },
    });
  });
  afterAll(() => stack?.stop());

  it("500 clients mid-run move to the other gateway, each stream complete with no gap or duplicate; the gateway exits 0 in the window", async () => {
    const [g1, g2] = stack.gateways as [(typeof stack.gateways)[0], (typeof stack.gateways)[0]];
    const USERS = 50;
    const PER_USER = 10;
    const tasks: string[] = [];
    for (let u = 0; u < USERS; u++) {
      const res = await stack.http("/v1/tasks", { userId: `drain-${u}`, body: { text: "/slow /tools 15 what is 7*6" } });
      tasks.push(res.body.taskId);
    }
    /** A client that follows one task and, when its gateway drains, resumes on the other one. */
    const follow = async (u: number) => {
      const token = await signDevToken(`drain-${u}`);
      const taskId = tasks[u] as string;
      const seen: EventEnvelope[] = [];
      let notices = 0;
      const first = new GatewayTestClient({ url: g1.url, token });
      first.socket.on("event", (e: EventEnvelope) => seen.push(e));
      first.socket.on("draining", () => notices++);
      await first.connect();
      await first.command("subscribe", { taskId, sinceSeq: 0 });
      const moved = new Promise<void>((resolve) => {
        first.socket.once("disconnect", async () => {
          first.socket.close(); // do not let it retry the draining pod
          const second = new GatewayTestClient({ url: g2.url, token });
          second.socket.on("event", (e: EventEnvelope) => seen.push(e));
          await second.connect();
          const last = seen.at(-1);
          await second.command("subscribe", { taskId, sinceSeq: last?.seq ?? 0 });
          if (!last || !isTerminal(last)) await second.collectRun(taskId, 30_000);
          second.disconnect();
          resolve();
        });
      });
      return { seen, moved, notices: () => notices };
    };
    const clients = await Promise.all(Array.from({ length: USERS * PER_USER }, (_, i) => follow(i % USERS)));
    // The drain starts while runs stream to their clients (the worker runs 16 at a time, the rest wait
    // in the queue): at least 100 clients have seen their run start and not end.
    const streaming = () => clients.filter((c) => c.seen.length >= 3 && !c.seen.some(isTerminal)).length;
    await until(
      () => `100 clients to be mid-run (${streaming()} are)`,
      () => streaming() >= 100,
      30_000,
    );
    const sigtermAt = Date.now();
    g1.child.process.kill("SIGTERM");
    // Draining at once: while it moves its clients (the window), the gateway still answers, and /readyz says 503.
    const readyz = await until(
      "/readyz to answer 503 during the drain window",
      () =>
        fetch(`${g1.url}/readyz`).then(
          (r) => (r.status === 503 ? r.json() : undefined),
          () => undefined, // not listening (any more): no answer to count
        ),
      2_000,
      20,
    );
    expect(readyz).toMatchObject({ draining: true });
    const exit = await g1.child.exited;
    const exitedInMs = Date.now() - sigtermAt;
    await Promise.all(clients.map((c) => c.moved));

    expect(exit).toEqual({ code: 0, signal: null });
    expect(exitedInMs).toBeLessThan(2_000 + 3_000);
    let midRun = 0;
    for (const c of clients) {
      const last = c.seen.at(-1) as EventEnvelope;
      expect(isTerminal(last)).toBe(true);
      expect(
        seqProblem(
          c.seen.map((e) => e.seq),
          1,
          last.seq,
        ),
      ).toBeNull();
      expect(c.notices()).toBe(1);
      if (c.seen.some((e) => e.seq < last.seq && e.ts > sigtermAt)) midRun++;
    }
    // The runs really were streaming through the drain.
    expect(midRun).toBeGreaterThan(clients.length / 2);
  });
});

describe("worker SIGTERM", () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ gateways: 1, workers: 1, workerEnv: { WORKER_DRAIN_MS: "800" } });
  });
  afterAll(() => stack?.stop());

  it("lets a short run finish, ends a long one with worker_shutdown (retryable) and re-queues it; never a silent stall", async () => {
    const alice = await stack.client("alice");
    const short = await alice.command("user_message", { text: "what is 1+1" });
    const long = await alice.command("user_message", { text: "/slow /tools 20 what is 2+2" });
    if (!short.ok || !long.ok) throw new Error("start");
    await alice.waitForEvent("tool_executing", long.taskId);
    const worker = stack.workers[0];
    worker?.child.process.kill("SIGTERM");
    expect(await worker?.child.exited).toEqual({ code: 0, signal: null });
    expect((await alice.collectRun(short.taskId)).at(-1)).toMatchObject({ type: "agent_completed", data: { status: "succeeded" } });
    const ended = await alice.collectRun(long.taskId);
    expect(ended.at(-1)).toMatchObject({ type: "agent_error", runId: long.runId, data: { code: "worker_shutdown", retryable: true } });
    expect(ended.filter((e) => e.type === "tool_executing").length).toBe(ended.filter((e) => e.type === "tool_completed").length);
    // The run was queued again: a fresh worker picks it up and it completes.
    stack.workers.push(await startWorkerProcess({ redisUrl: stack.redis.url }));
    const retried = await alice.waitFor(
      "event",
      (p) => (p as EventEnvelope).taskId === long.taskId && (p as EventEnvelope).runId !== long.runId && isTerminal(p as EventEnvelope),
      { timeoutMs: 30_000 },
    );
    expect(retried.payload).toMatchObject({ type: "agent_completed", data: { status: "succeeded" } });
    const all = alice.events(long.taskId);
    expect(
      seqProblem(
        all.map((e) => e.seq),
        1,
        all.length,
      ),
    ).toBeNull();
  });
});
