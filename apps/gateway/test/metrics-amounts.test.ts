import { EVENT_TYPES, type EventEnvelope, validateRunEvents } from "@agentcast/protocol";
import { createKeys, type RunJobData, runJobOptions, runQueueName } from "@agentcast/store";
import { GatewayTestClient, signDevToken, until } from "@agentcast/testkit";
import { Queue } from "bullmq";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Stack, startStack } from "./fixture.js";
import { scrape, value } from "./metrics.js";

type Metrics = Map<string, number>;
const RUN_BUCKETS = ["0.1", "0.5", "1", "2.5", "5", "10", "30", "60", "120", "300", "600", "+Inf"];
const STATUSES = ["succeeded", "failed", "cancelled", "stalled", "shutdown", "superseded"];
const countByType = (events: EventEnvelope[]) => {
  const counts = new Map<string, number>(EVENT_TYPES.map((t) => [t, 0]));
  for (const e of events) counts.set(e.type, (counts.get(e.type) ?? 0) + 1);
  return Object.fromEntries(counts);
};

describe("counters and histograms move by exactly what happened", () => {
  let stack: Stack;
  let firstRun: EventEnvelope[] = [];
  const gateway = () => scrape(stack.gateways[0]?.metricsPort ?? 0);
  const worker = () => scrape(stack.workers[0]?.metricsPort ?? 0);
  const delta =
    (after: Metrics, before: Metrics) =>
    (name: string, labels: Record<string, string> = {}) =>
      value(after, name, labels) - value(before, name, labels);
  const byType = (d: ReturnType<typeof delta>, name: string) => Object.fromEntries(EVENT_TYPES.map((type) => [type, d(name, { type })]));
  const runsByStatus = (d: ReturnType<typeof delta>) =>
    Object.fromEntries(STATUSES.map((status) => [status, d("agentcast_worker_runs_total", { status })]));
  /** Waits until the worker counted `n` more runs than in `before` (the count follows the terminal event). */
  const runsCounted = (before: Metrics, n: number) =>
    until(`${n} more run(s) counted`, async () => {
      const w = await worker();
      return STATUSES.reduce((sum, status) => sum + delta(w, before)("agentcast_worker_runs_total", { status }), 0) === n;
    });

  beforeAll(async () => {
    stack = await startStack({ gateways: 1, workers: 1 });
  });
  afterAll(() => stack?.stop());

  it("one succeeded run: published and delivered by type = the run's events; one duration sample; live lag per event", async () => {
    const [g0, w0] = await Promise.all([gateway(), worker()]);
    const ann = await stack.client("ann");
    const ack = await ann.command("user_message", { text: "/tools 2 what is 6*7" });
    if (!ack.ok) throw new Error(JSON.stringify(ack));
    firstRun = await ann.collectRun(ack.taskId);
    expect(validateRunEvents(firstRun)).toEqual([]);
    await runsCounted(w0, 1);
    const [g1, w1] = await Promise.all([gateway(), worker()]);
    const dw = delta(w1, w0);
    const dg = delta(g1, g0);
    const expected = countByType(firstRun);
    expect(expected).toMatchObject({ agent_started: 1, tool_executing: 2, tool_completed: 2, agent_completed: 1 });
    expect(byType(dw, "agentcast_worker_events_published_total")).toEqual(expected);
    expect(runsByStatus(dw)).toEqual({ succeeded: 1, failed: 0, cancelled: 0, stalled: 0, shutdown: 0, superseded: 0 });

    // Duration: one sample, at least agent_started → terminal as the events' ts say, and it fell in
    // exactly the buckets at or above it.
    expect(dw("agentcast_worker_run_duration_seconds_count")).toBe(1);
    const seconds = dw("agentcast_worker_run_duration_seconds_sum");
    const span = ((firstRun.at(-1)?.ts ?? 0) - (firstRun[0]?.ts ?? 0)) / 1000;
    expect(seconds).toBeGreaterThanOrEqual(span - 0.001);
    expect(seconds).toBeLessThan(span + 2);
    for (const le of RUN_BUCKETS) {
      const inBucket = le === "+Inf" || Number(le) >= seconds ? 1 : 0;
      expect(dw("agentcast_worker_run_duration_seconds_bucket", { le }), `le=${le}`).toBe(inBucket);
    }

    // Gateway: every event delivered once; each live one has a lag sample, the rest (the run's first events can
    // beat the subscribe's history read) were replayed.
    expect(byType(dg, "agentcast_gateway_events_delivered_total")).toEqual(expected);
    const live = dg("agentcast_gateway_delivery_lag_seconds_count");
    expect(live + dg("agentcast_gateway_events_replayed_total")).toBe(firstRun.length);
    expect(dg("agentcast_gateway_delivery_lag_seconds_bucket", { le: "+Inf" })).toBe(live);
    for (const le of ["0.05", "0.25"]) expect(g1.has(`agentcast_gateway_delivery_lag_seconds_bucket{le="${le}"}`), le).toBe(true);
    const [at05, at25] = [
      dg("agentcast_gateway_delivery_lag_seconds_bucket", { le: "0.05" }),
      dg("agentcast_gateway_delivery_lag_seconds_bucket", { le: "0.25" }),
    ];
    expect(at05).toBeLessThanOrEqual(at25);
    expect(at25).toBeLessThanOrEqual(live);
  });

  it("replay: a socket subscribing from sinceSeq k gets lastSeq − k events from history, counted as replayed, with no lag sample", async () => {
    const taskId = firstRun[0]?.taskId ?? "";
    const k = 3;
    const g0 = await gateway();
    const ann = await stack.client("ann");
    expect(await ann.command("subscribe", { taskId, sinceSeq: k })).toEqual({ ok: true, taskId, lastSeq: firstRun.length });
    const replayed = await ann.collectRun(taskId);
    expect(replayed).toEqual(firstRun.slice(k));
    const all = await stack.client("ann");
    expect(await all.command("subscribe", { taskId })).toMatchObject({ ok: true, lastSeq: firstRun.length });
    expect(await all.collectRun(taskId)).toEqual(firstRun);
    const d = delta(await gateway(), g0);
    expect(d("agentcast_gateway_events_replayed_total")).toBe(firstRun.length - k + firstRun.length);
    expect(byType(d, "agentcast_gateway_events_delivered_total")).toEqual(
      Object.fromEntries(Object.entries(countByType(firstRun)).map(([t, n]) => [t, n + (countByType(firstRun.slice(k))[t] ?? 0)])),
    );
    expect(d("agentcast_gateway_delivery_lag_seconds_count")).toBe(0);
  });

  it("runs_total counts failed, cancelled and superseded runs once each", async () => {
    const w0 = await worker();
    const bo = await stack.client("bo");
    const failed = await bo.command("user_message", { text: "/fail please" });
    if (!failed.ok) throw new Error(JSON.stringify(failed));
    expect((await bo.collectRun(failed.taskId)).at(-1)).toMatchObject({ type: "agent_error", data: { code: "agent_failed" } });
    await runsCounted(w0, 1);

    const slow = await bo.command("user_message", { text: "/slow /tools 3 what is 1+2" });
    if (!slow.ok) throw new Error(JSON.stringify(slow));
    await bo.waitForEvent("tool_executing", slow.taskId);
    expect(await bo.command("cancel", { taskId: slow.taskId })).toMatchObject({ ok: true });
    const cancelled = await bo.collectRun(slow.taskId);
    expect(cancelled.at(-1)).toMatchObject({ type: "agent_completed", data: { status: "cancelled" } });
    await runsCounted(w0, 2);
    const w1 = await worker();

    // A job whose run is not the task's current run (as a duplicate or late job would be): skipped.
    const keys = createKeys();
    const queue = new Queue<RunJobData>(runQueueName(0), { connection: { url: stack.redis.url }, prefix: keys.queuePrefix });
    try {
      const job = { taskId: failed.taskId, runId: "r_not_the_current_run", userId: "bo", text: "stale" };
      await queue.add("run", job, runJobOptions(job.runId));
      await runsCounted(w0, 3);
    } finally {
      await queue.close();
    }
    const w2 = await worker();
    expect(runsByStatus(delta(w2, w0))).toEqual({ succeeded: 0, failed: 1, cancelled: 1, stalled: 0, shutdown: 0, superseded: 1 });
    // The skipped job published nothing and took no duration sample.
    expect(byType(delta(w2, w1), "agentcast_worker_events_published_total")).toEqual(countByType([]));
    expect(delta(w2, w1)("agentcast_worker_run_duration_seconds_count")).toBe(0);
    expect(delta(w2, w0)("agentcast_worker_run_duration_seconds_count")).toBe(2);
    expect((await stack.http(`/v1/tasks/${failed.taskId}`, { userId: "bo" })).body).toMatchObject({
      status: "failed",
      runId: failed.runId,
    });
  });

  it("auth_failures_total{code} counts refused socket handshakes by code, and nothing else", async () => {
    const g0 = await gateway();
    const url = stack.gateways[0]?.url ?? "";
    const tokens = {
      token_missing: undefined,
      token_invalid: await signDevToken("eve", { secret: "not-the-gateway-secret-not-the-gateway-secret" }),
      token_expired: await signDevToken("eve", { expiresInSeconds: -120 }),
    };
    for (const [code, token] of Object.entries(tokens)) {
      const c = new GatewayTestClient({ url, ...(token === undefined ? {} : { token }) });
      const err = await c.connectExpectingError();
      c.disconnect();
      expect(err.data?.code).toBe(code);
    }
    const expired2 = new GatewayTestClient({ url, token: tokens.token_expired });
    expect((await expired2.connectExpectingError()).data?.code).toBe("token_expired");
    expired2.disconnect();
    const d = delta(await gateway(), g0);
    expect({
      token_missing: d("agentcast_gateway_auth_failures_total", { code: "token_missing" }),
      token_invalid: d("agentcast_gateway_auth_failures_total", { code: "token_invalid" }),
      token_expired: d("agentcast_gateway_auth_failures_total", { code: "token_expired" }),
    }).toEqual({ token_missing: 1, token_invalid: 1, token_expired: 2 });
    expect(d("agentcast_gateway_connections_opened_total")).toBe(0);
  });
});
