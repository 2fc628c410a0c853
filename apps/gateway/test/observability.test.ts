import { type EventEnvelope, validateRunEvents } from "@agentcast/protocol";
import { startWorkerProcess, until } from "@agentcast/testkit";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { type Stack, startStack } from "./fixture.js";
import { scrape, value } from "./metrics.js";

const SF = "agentcast_silent_failures_total";

describe("every silent failure, induced for real, moves its counter by exactly the right amount", () => {
  let stack: Stack;
  const workerEnv = { RUN_STALL_TIMEOUT_MS: "1000", CONTROL_POLL_MS: "100", JOB_LOCK_MS: "1000" };
  const worker = () => scrape(stack.workers[stack.workers.length - 1]?.metricsPort ?? 0);
  const gateway = (i: number) => scrape(stack.gateways[i]?.metricsPort ?? 0);
  const wf = (m: Map<string, number>, kind: string) => value(m, SF, { component: "worker", kind });
  const gf = (m: Map<string, number>, kind: string) => value(m, SF, { component: "gateway", kind });
  const succeededRuns = (m: Map<string, number>) => value(m, "agentcast_worker_runs_total", { status: "succeeded" });
  /** The worker's metrics once it counted one more succeeded run than in `before` (it counts after the terminal event). */
  const runCounted = (before: Map<string, number>) =>
    until("the worker to count the run", async () => {
      const now = await worker();
      return succeededRuns(now) === succeededRuns(before) + 1 ? now : undefined;
    });

  beforeAll(async () => {
    stack = await startStack({ gateways: 2, workers: 1, workerEnv, gatewayEnv: { USER_RESPONSE_TIMEOUT_MS: "1000" } });
  });
  afterAll(() => stack?.stop());

  it("exposes every kind at 0 before anything happens", async () => {
    const [w, g] = await Promise.all([worker(), gateway(0)]);
    for (const kind of ["unrouted_event", "stuck_run", "unpaired_tool_call", "invalid_event", "redis_error", "publish_failed"]) {
      expect(w.has(`${SF}{component="worker",kind="${kind}"}`)).toBe(true);
    }
    for (const kind of ["sequence_gap", "emit_error", "redis_error", "ack_timeout"]) {
      expect(g.has(`${SF}{component="gateway",kind="${kind}"}`)).toBe(true);
    }
  });

  it("unrouted_event: a run nobody watches counts each of its events", async () => {
    const before = await worker();
    const { body } = await stack.http("/v1/tasks", { userId: "olga", body: { text: "what is 3+4" } });
    // The worker counts a run once its terminal event is published (and counted as unrouted): the marker
    // after which every event of the run has been counted.
    const after = await runCounted(before);
    const { lastSeq, status } = (await stack.http(`/v1/tasks/${body.taskId}`, { userId: "olga" })).body;
    expect(status).toBe("succeeded");
    expect(lastSeq).toBeGreaterThan(5);
    expect(wf(after, "unrouted_event") - wf(before, "unrouted_event")).toBe(lastSeq);
    // A watched run adds none.
    const alice = await stack.client("alice");
    const ack = await alice.command("user_message", { text: "what is 1+1" });
    if (!ack.ok) throw new Error(JSON.stringify(ack));
    await alice.collectRun(ack.taskId);
    expect(wf(await runCounted(after), "unrouted_event")).toBe(wf(after, "unrouted_event"));
  });

  it("stuck_run: the watchdog ends a hung agent with agent_error run_stalled, and the user sees it", async () => {
    const before = await worker();
    const alice = await stack.client("alice", 1);
    const ack = await alice.command("user_message", { text: "/hang" });
    if (!ack.ok) throw new Error(JSON.stringify(ack));
    const run = await alice.collectRun(ack.taskId);
    expect(validateRunEvents(run)).toEqual([]);
    expect(run.at(-1)).toMatchObject({ type: "agent_error", data: { code: "run_stalled", retryable: true } });
    const after = await worker();
    expect(wf(after, "stuck_run") - wf(before, "stuck_run")).toBe(1);
    expect(wf(after, "unpaired_tool_call") - wf(before, "unpaired_tool_call")).toBe(0);
    expect(
      value(after, "agentcast_worker_runs_total", { status: "stalled" }) -
        value(before, "agentcast_worker_runs_total", { status: "stalled" }),
    ).toBe(1);
  });

  it("unpaired_tool_call: a tool that never completes is closed by the worker (and the run is stalled)", async () => {
    const before = await worker();
    const alice = await stack.client("alice");
    const ack = await alice.command("user_message", { text: "/hangtool" });
    if (!ack.ok) throw new Error(JSON.stringify(ack));
    const run = await alice.collectRun(ack.taskId);
    expect(validateRunEvents(run)).toEqual([]);
    expect(run.at(-2)).toMatchObject({ type: "tool_completed", data: { tool: "wait", ok: false } });
    expect(run.at(-1)).toMatchObject({ type: "agent_error", data: { code: "run_stalled" } });
    const after = await worker();
    expect(wf(after, "unpaired_tool_call") - wf(before, "unpaired_tool_call")).toBe(1);
    expect(wf(after, "stuck_run") - wf(before, "stuck_run")).toBe(1);
  });

  it("invalid_event: an event breaking the run rules is not sent; the run ends with agent_error", async () => {
    const before = await worker();
    const alice = await stack.client("alice");
    const ack = await alice.command("user_message", { text: "/invalid" });
    if (!ack.ok) throw new Error(JSON.stringify(ack));
    const run = await alice.collectRun(ack.taskId);
    expect(validateRunEvents(run)).toEqual([]);
    expect(run.some((e) => e.type === "progress_update" && e.data.percent > 100)).toBe(false);
    expect(run.at(-1)).toMatchObject({ type: "agent_error", data: { code: "agent_failed" } });
    expect(wf(await worker(), "invalid_event") - wf(before, "invalid_event")).toBe(1);
  });

  it("sequence_gap: report_gap is counted on the gateway that received it, for the owner only", async () => {
    const [g0, g1] = await Promise.all([gateway(0), gateway(1)]);
    const alice = await stack.client("alice", 0);
    const bob = await stack.client("bob", 0);
    const ack = await alice.command("user_message", { text: "what is 2+2" });
    if (!ack.ok) throw new Error(JSON.stringify(ack));
    await alice.collectRun(ack.taskId);
    expect(await alice.command("report_gap", { taskId: ack.taskId, expectedSeq: 3, gotSeq: 5 })).toEqual({ ok: true, taskId: ack.taskId });
    expect(await bob.command("report_gap", { taskId: ack.taskId, expectedSeq: 3, gotSeq: 5 })).toMatchObject({
      ok: false,
      error: { code: "forbidden" },
    });
    expect(await alice.command("report_gap", { taskId: ack.taskId, expectedSeq: 0, gotSeq: 5 })).toMatchObject({
      ok: false,
      error: { code: "invalid_payload" },
    });
    const [a0, a1] = await Promise.all([gateway(0), gateway(1)]);
    expect(gf(a0, "sequence_gap") - gf(g0, "sequence_gap")).toBe(1);
    expect(gf(a1, "sequence_gap") - gf(g1, "sequence_gap")).toBe(0);
    // The log line comes through the gateway's stdout pipe, which may trail the ack.
    await vi.waitFor(() =>
      expect(stack.gateways[0]?.child.output.some((l) => l.includes("client reported a sequence gap") && l.includes('"gotSeq":5'))).toBe(
        true,
      ),
    );
  });

  it("ack_timeout: an answer consumed in time is not counted; one no run consumes (its worker was killed) is; the next worker ends the run", async () => {
    const before = await gateway(1);
    const alice = await stack.client("alice", 1);
    const questionOf = async (runId: string) => {
      const q = await alice.waitFor("event", (p) => (p as EventEnvelope).runId === runId && (p as EventEnvelope).type === "agent_question");
      return (q.payload as Extract<EventEnvelope, { type: "agent_question" }>).data.questionId;
    };
    /** The gateway's `warn` line for an answer nobody consumed (it comes after the count, through a pipe). */
    const notConsumed = (questionId: string) =>
      stack.gateways[1]?.child.output.some(
        (l) => l.includes("user_response not consumed by any run") && l.includes(`"questionId":"${questionId}"`),
      ) ?? false;
    // Answered in time: the run consumes the answer.
    const ack = await alice.command("user_message", { text: "/ask anything" });
    if (!ack.ok) throw new Error(JSON.stringify(ack));
    const consumed = await questionOf(ack.runId);
    expect(await alice.command("user_response", { taskId: ack.taskId, questionId: consumed, response: "fine" })).toMatchObject({
      ok: true,
    });
    await alice.waitFor("event", (p) => (p as EventEnvelope).runId === ack.runId && (p as EventEnvelope).type === "agent_completed");
    // Answered after the run's worker was killed: nothing consumes it.
    const next = await alice.command("user_message", { text: "/ask again", taskId: ack.taskId });
    if (!next.ok) throw new Error(JSON.stringify(next));
    const orphaned = await questionOf(next.runId);
    await stack.workers[stack.workers.length - 1]?.kill();
    expect(await alice.command("user_response", { taskId: ack.taskId, questionId: orphaned, response: "hello?" })).toMatchObject({
      ok: true,
    });
    // Each answer is checked USER_RESPONSE_TIMEOUT_MS after it was accepted, in the order accepted: the
    // orphaned answer's line is the marker after which the consumed answer's check has run too.
    await until("the orphaned answer to be logged as not consumed", () => notConsumed(orphaned), 5_000);
    expect(notConsumed(consumed)).toBe(false);
    expect(gf(await gateway(1), "ack_timeout") - gf(before, "ack_timeout")).toBe(1);
    stack.workers.push(await startWorkerProcess({ redisUrl: stack.redis.url, env: workerEnv }));
    const run = await alice.collectRun(ack.taskId, { runId: next.runId, timeoutMs: 15_000 });
    expect(run.at(-1)).toMatchObject({ type: "agent_error", data: { code: "run_stalled" } });
    expect(wf(await worker(), "stuck_run")).toBe(1);
  });

  it("counts connections, commands, deliveries and auth failures without per-user labels", async () => {
    const before = await gateway(0);
    const carol = await stack.client("carol", 0);
    const ack = await carol.command("user_message", { text: "what is 5*5" });
    if (!ack.ok) throw new Error(JSON.stringify(ack));
    const run = await carol.collectRun(ack.taskId);
    await carol.command("subscribe", { taskId: "t_unknown" });
    const bad = await fetch(`${stack.gateways[0]?.url}/v1/tasks`, { headers: { authorization: "Bearer nope" } });
    expect(bad.status).toBe(401);
    const mid = await gateway(0);
    const d = (name: string, labels: Record<string, string> = {}) => value(mid, name, labels) - value(before, name, labels);
    expect(d("agentcast_gateway_connections_opened_total")).toBe(1);
    expect(value(mid, "agentcast_gateway_connections")).toBeGreaterThanOrEqual(1);
    expect(d("agentcast_gateway_commands_total", { command: "user_message", outcome: "ok" })).toBe(1);
    expect(d("agentcast_gateway_commands_total", { command: "subscribe", outcome: "not_found" })).toBe(1);
    expect(d("agentcast_gateway_auth_failures_total", { code: "token_invalid" })).toBe(1);
    const delivered = [
      "agent_started",
      "agent_thinking",
      "tool_executing",
      "tool_completed",
      "progress_update",
      "agent_output",
      "agent_completed",
    ]
      .map((type) => d("agentcast_gateway_events_delivered_total", { type }))
      .reduce((a, b) => a + b, 0);
    expect(delivered).toBe(run.length);
    // Live events get a lag sample; the run's first events may have been replayed (they can beat the subscribe's read).
    expect(d("agentcast_gateway_delivery_lag_seconds_count") + d("agentcast_gateway_events_replayed_total")).toBe(run.length);
    expect(value(mid, "agentcast_gateway_delivery_lag_seconds_bucket", { le: "0.05" })).toBeGreaterThan(0);
    expect(value(mid, "agentcast_gateway_redis_up")).toBe(1);
    expect(value(mid, "agentcast_gateway_rooms")).toBeGreaterThanOrEqual(2);
    carol.disconnect();
    await until("the disconnect to be counted", async () => {
      const after = await gateway(0);
      return (
        value(after, "agentcast_gateway_disconnections_total", { reason: "client namespace disconnect" }) -
          value(before, "agentcast_gateway_disconnections_total", { reason: "client namespace disconnect" }) ===
        1
      );
    });
    const w = await worker();
    expect(value(w, "agentcast_queue_jobs", { state: "completed" })).toBeGreaterThan(0);
    expect(value(w, "agentcast_worker_tool_duration_seconds_count", { tool: "calculator" })).toBeGreaterThan(0);
    for (const series of [...mid.keys(), ...w.keys()]) {
      for (const id of ["carol", "alice", ack.taskId, ack.runId]) expect(series).not.toContain(id);
    }
  });
  // GET /v1/stats: stats.test.ts. Redis down (redis_error, publish_failed): redis-outage.test.ts.
});
