// A refused or failed `user_message` leaves nothing behind (issue 13, items 8, 9 and 10): no run without
// events, no task stuck `queued`, no subscription stuck catching up, no second run after a resend.
// Real redis-server, a real gateway process (its Redis traffic through a proxy that can cut exactly one
// kind of command), real clients; no worker, so a queued run stays queued where the test can see it.
import { createKeys, EventPublisher, TaskStore } from "@agentcast/store";
import { type GatewayProcess, signDevToken } from "@agentcast/testkit";
import type { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { scrape, value } from "./metrics.js";
import { type ProxiedGateway, startProxiedGateway } from "./proxied-gateway.js";
import type { RedisFaultProxy } from "./redis-fault-proxy.js";

const keys = createKeys("ac");
const WAIT_LIST = "ac:bull:{runs-0}:wait";

describe("failed starts leave no state behind", () => {
  let stack: ProxiedGateway;
  let proxy: RedisFaultProxy;
  let gateway: GatewayProcess;
  let direct: Redis;
  let tasks: TaskStore;

  beforeAll(async () => {
    stack = await startProxiedGateway({ MAX_SUBSCRIPTIONS_PER_SOCKET: "1" });
    ({ proxy, gateway, direct } = stack);
    tasks = new TaskStore(direct, { keys, historyTtlSeconds: 3_600 });
  });
  afterAll(() => stack?.stop());

  const client = (userId: string) => stack.client(userId);
  const http = async (userId: string, path: string) => {
    const res = await fetch(`${gateway.url}${path}`, { headers: { authorization: `Bearer ${await signDevToken(userId)}` } });
    // biome-ignore lint/suspicious/noExplicitAny: JSON bodies of several shapes, asserted by each test
    return { status: res.status, body: (await res.json()) as any };
  };
  /** A task of `userId` whose one run already ran to completion (3 events), written with the real publish script. */
  const finishedTask = async (userId: string) => {
    const { taskId, runId } = await tasks.createTask(userId, "done already");
    const publisher = new EventPublisher(direct, { keys, historyMaxLen: 1_000, historyTtlSeconds: 3_600 });
    await publisher.publish({ taskId, runId, userId, type: "agent_started", data: { input: "done already" } });
    await publisher.publish({ taskId, runId, userId, type: "agent_output", data: { delta: "ok" } });
    await publisher.publish({ taskId, runId, userId, type: "agent_completed", data: { status: "succeeded" } });
    return { taskId, runId };
  };
  const jobsWaiting = async () => ((await direct.type(WAIT_LIST)) === "list" ? direct.llen(WAIT_LIST) : 0);

  it("item 8: a user_message refused at the subscription cap changes no task and creates none", async () => {
    const followed = await finishedTask("ana");
    const other = await finishedTask("ana");
    const before = await http("ana", `/v1/tasks/${other.taskId}`);
    expect(before.body).toMatchObject({ status: "succeeded", runs: 1, lastSeq: 3, runId: other.runId });
    const c = await client("ana");
    expect(await c.command("subscribe", { taskId: followed.taskId, sinceSeq: 3 })).toMatchObject({ ok: true }); // at the cap (1)

    const followUp = await c.command("user_message", { taskId: other.taskId, text: "one more" });
    expect(followUp).toMatchObject({ ok: false, error: { code: "limit_exceeded" } });
    const fresh = await c.command("user_message", { text: "a new task" });
    expect(fresh).toMatchObject({ ok: false, error: { code: "limit_exceeded" } });

    expect((await http("ana", `/v1/tasks/${other.taskId}`)).body).toEqual(before.body);
    expect((await http("ana", "/v1/tasks")).body.tasks.map((t: { taskId: string }) => t.taskId).sort()).toEqual(
      [followed.taskId, other.taskId].sort(),
    );
    expect(await jobsWaiting()).toBe(0);
  });

  it("item 9: after a failed enqueue the socket is not left deaf: a retried subscribe replays the task", async () => {
    const { taskId } = await finishedTask("ben");
    const c = await client("ben");
    await direct.set(WAIT_LIST, "not a list: BullMQ's add fails with WRONGTYPE");
    try {
      const failed = await c.command("user_message", { taskId, text: "follow-up that cannot be queued" });
      expect(failed).toMatchObject({ ok: false, error: { code: "unavailable" } });
    } finally {
      await direct.del(WAIT_LIST);
    }
    // The socket follows nothing: subscribing replays the task's history from the start.
    expect(await c.command("subscribe", { taskId, sinceSeq: 0 })).toMatchObject({ ok: true, lastSeq: 3 });
    await c.waitForEvent("agent_completed", taskId, 5_000);
    expect(c.events(taskId).map((e) => e.seq)).toEqual([1, 2, 3]);
    // The failed run was undone: the task is as it was, and free.
    await expect
      .poll(async () => (await http("ben", `/v1/tasks/${taskId}`)).body, { timeout: 10_000 })
      .toMatchObject({
        status: "succeeded",
        runs: 1,
        lastSeq: 3,
      });
    // And a follow-up now starts (and queues) a run.
    expect(await c.command("user_message", { taskId, text: "now it can" })).toMatchObject({ ok: true, taskId });
    expect(await jobsWaiting()).toBe(1);
    await direct.del(WAIT_LIST);
  });

  it("item 9: when recording the message id fails, the resend starts exactly one run", async () => {
    // Each send from a new connection, as after the dropped connection that makes a client resend.
    const send = async () => (await client("cai")).command("user_message", { text: "count me once", messageId: "m-1" }, 15_000);
    // Redis answers with an error exactly when the gateway records what message m-1 started.
    const fault = proxy.failWhen((cmd) => cmd.name === "SET" && (cmd.args[0] ?? "").endsWith(":msg:m-1") && cmd.args[1] !== "pending", 1);
    const first = await send();
    expect(fault.hits).toBe(1);
    expect(first).toMatchObject({ ok: false });
    let resent = await send();
    // If the release of the claim was lost too, the claim lapses within 30 s; the client's resend says so.
    for (let i = 0; i < 12 && !resent.ok; i++) {
      expect(resent).toMatchObject({ ok: false, error: { code: "unavailable" } });
      await new Promise((r) => setTimeout(r, 3_000));
      resent = await send();
    }
    if (!resent.ok) throw new Error(JSON.stringify(resent));
    expect(await send()).toMatchObject({ ok: true, duplicate: true, taskId: resent.taskId, runId: resent.runId });
    const list = (await http("cai", "/v1/tasks")).body.tasks as { taskId: string; runs: number }[];
    expect(list.map((t) => [t.taskId, t.runs])).toEqual([[resent.taskId, 1]]);
    expect(await jobsWaiting()).toBe(1);
    await direct.del(WAIT_LIST);
  });

  it("item 10: when undoing a failed start fails, it is logged, counted and retried: the task is not left busy", async () => {
    const { taskId, runId } = await finishedTask("dee");
    const c = await client("dee");
    const failuresBefore = value(await scrape(gateway.metricsPort), "agentcast_gateway_background_failures_total", { job: "abandon_run" });
    const taskKey = keys.task(taskId);
    // The undo script on this task — (EVALSHA|EVAL) <script> 1 <task key> <runId> [nowMs] — fails twice.
    const fault = proxy.failWhen(
      (cmd) =>
        cmd.name.startsWith("EVAL") &&
        cmd.args[1] === "1" &&
        cmd.args[2] === taskKey &&
        cmd.args.length <= 5 &&
        /^r_/.test(cmd.args[3] ?? ""),
      2,
    );
    await direct.set(WAIT_LIST, "not a list");
    try {
      const failed = await c.command("user_message", { taskId, text: "cannot be queued" }, 15_000);
      expect(failed).toMatchObject({ ok: false, error: { code: "unavailable" } });
    } finally {
      await direct.del(WAIT_LIST);
    }
    await expect
      .poll(async () => (await http("dee", `/v1/tasks/${taskId}`)).body, { timeout: 15_000 })
      .toMatchObject({
        status: "succeeded",
        runId,
        runs: 1,
      });
    expect(fault.hits).toBe(2);
    const failuresAfter = value(await scrape(gateway.metricsPort), "agentcast_gateway_background_failures_total", { job: "abandon_run" });
    expect(failuresAfter - failuresBefore).toBe(2);
    expect(gateway.child.output.some((l) => l.includes('"job":"abandon_run"') && l.includes("background job failed"))).toBe(true);
    expect(await c.command("user_message", { taskId, text: "the task is free again" })).toMatchObject({ ok: true });
    await direct.del(WAIT_LIST);
  });
});
