// Fault 4 of issue 14: a whole master stops answering (SIGSTOP) for longer than the cluster's node
// timeout while runs stream, then comes back (SIGCONT). A gateway is unready exactly while a master that
// serves slots does not answer it: from its probe's timeout until the replica took over (not until the old
// master is back). The run on the frozen master finishes on the promoted replica, the run on another master
// does not notice, every client ends with exactly each task's history, and the metrics show the node.
// Then every master at once: nothing can serve, the processes reconnect, and all runs finish after.
import type { EventEnvelope } from "@agentcast/protocol";
import { createKeys } from "@agentcast/store";
import { type ClusterNodeHandle, type GatewayProcess, type GatewayTestClient, until } from "@agentcast/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { masterSeenBy, slotOf } from "./cluster-migration-slot.js";
import { type Stack, startStack } from "./fixture.js";
import { scrape, value } from "./metrics.js";

const keys = createKeys("ac");
/** How long the master stays frozen (the fault's duration): 5× the test cluster's node timeout (1 s), so its replica takes over meanwhile. */
const FROZEN_MS = 5_000;
const PROBE = { REDIS_PING_INTERVAL_MS: "250", REDIS_PING_TIMEOUT_MS: "500" };
const NODES = "agentcast_redis_cluster_nodes";
const NODE_ERRORS = "agentcast_redis_cluster_node_errors_total";

const readyz = async (g: GatewayProcess) => (await fetch(`${g.url}/readyz`, { signal: AbortSignal.timeout(2_000) })).status;
const allReady = async (gateways: GatewayProcess[]) => (await Promise.all(gateways.map(readyz))).every((s) => s === 200);

/** Polls every gateway's /readyz every 50 ms until stopped: each one's unready spans [from, to) in ms since `t0`. */
function recordReadiness(gateways: GatewayProcess[], t0: number) {
  const spans: [number, number | undefined][][] = gateways.map(() => []);
  let stopped = false;
  const loops = gateways.map(async (g, i) => {
    const mine = spans[i] as [number, number | undefined][];
    while (!stopped) {
      const at = Date.now() - t0;
      const ok = (await readyz(g).catch(() => 0)) === 200;
      const open = mine.at(-1);
      if (!ok && (!open || open[1] !== undefined)) mine.push([at, undefined]);
      if (ok && open && open[1] === undefined) open[1] = at;
      await new Promise((r) => setTimeout(r, 50));
    }
  });
  return async () => {
    stopped = true;
    await Promise.all(loops);
    return spans;
  };
}

/** The task's events a raw client received after the last task_reset for it, and how many resets it got. */
function sinceLastReset(c: GatewayTestClient, taskId: string): { events: EventEnvelope[]; resets: number } {
  let events: EventEnvelope[] = [];
  let resets = 0;
  for (const m of c.received) {
    const p = m.payload as { taskId?: string };
    if (p?.taskId !== taskId) continue;
    if (m.name === "task_reset") {
      resets++;
      events = [];
    } else if (m.name === "event") events.push(m.payload as EventEnvelope);
  }
  return { events, resets };
}

describe("a master frozen for longer than the node timeout (Redis Cluster)", () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ gateways: 2, workers: 1, redis: "cluster", gatewayEnv: PROBE, workerEnv: { DEMO_STEP_MS: "40", ...PROBE } });
  });
  afterAll(() => stack?.stop());

  const masterOfTask = async (taskId: string) => {
    const cluster = stack.cluster as NonNullable<Stack["cluster"]>;
    return cluster.masterOf(await slotOf(cluster.nodes[0] as ClusterNodeHandle, keys.task(taskId)));
  };

  /** Starts runs of `noa` until `want` says the set is complete; followers on both gateways subscribe to each. */
  const startRuns = async (want: (masters: ClusterNodeHandle[], next: ClusterNodeHandle) => boolean, n: number) => {
    const owner = await stack.client("noa", 0);
    const runs: { taskId: string; master: ClusterNodeHandle }[] = [];
    while (runs.length < n) {
      const ack = await owner.command("user_message", { text: "what is 2+3 /tools 50" });
      if (!ack.ok) throw new Error(JSON.stringify(ack));
      const master = await masterOfTask(ack.taskId);
      if (
        want(
          runs.map((r) => r.master),
          master,
        )
      )
        runs.push({ taskId: ack.taskId, master });
      else await owner.collectRun(ack.taskId);
    }
    const followers = await Promise.all([stack.client("noa", 0), stack.client("noa", 1), stack.client("noa", 1)]);
    for (const f of followers)
      for (const { taskId } of runs) expect(await f.command("subscribe", { taskId, sinceSeq: 0 })).toMatchObject({ ok: true });
    const clients: GatewayTestClient[] = [owner, ...followers];
    await Promise.all(clients.map((c) => until("live events", () => runs.every((r) => c.events(r.taskId).length >= 5), 10_000)));
    return { runs, clients };
  };

  /** Every run ended (agent_completed, or agent_error with a code); every client holds exactly its history. Returns each run's last event. */
  const expectHistories = async (runs: { taskId: string }[], clients: GatewayTestClient[]) => {
    const ends: EventEnvelope[] = [];
    for (const { taskId } of runs) {
      await Promise.all(clients.map((c) => c.collectRun(taskId, { timeoutMs: 30_000 })));
      const stored = (await stack.http(`/v1/tasks/${taskId}/events?sinceSeq=0`, { userId: "noa" })).body.events as EventEnvelope[];
      const last = stored.at(-1) as EventEnvelope;
      expect(last.type === "agent_completed" || (last.type === "agent_error" && typeof last.data.code === "string")).toBe(true);
      for (const [i, c] of clients.entries()) {
        // With REDIS_WAIT_REPLICAS=0 a failover may take back events a client saw; where another event then
        // took the seq, the client is told task_reset and gets the history again (docs/reliability.md).
        // Whatever came before its last reset it discards; from there on it must hold exactly the history.
        const { events, resets } = sinceLastReset(c, taskId);
        expect(events, `client ${i}, task ${taskId}, ${resets} resets; warnings logged: ${stack.problems().join("\n")}`).toEqual(stored);
      }
      ends.push(last);
    }
    return ends;
  };

  it("gateways are unready only until the replica takes over; runs finish; every client gets the history once", async () => {
    const { runs, clients } = await startRuns((masters, next) => masters.length === 0 || masters[0] !== next, 2);
    const [frozen, other] = runs as [(typeof runs)[0], (typeof runs)[0]];
    expect(await allReady(stack.gateways)).toBe(true);

    const t0 = Date.now();
    const stopRecording = recordReadiness(stack.gateways, t0);
    const node = frozen.master;
    const at: Record<"unreachable" | "failover" | "readyAgain", number> = { unreachable: 0, failover: 0, readyAgain: 0 };
    node.pause();
    try {
      // Every process finds the master silent (its probe unanswered for REDIS_PING_TIMEOUT_MS) and counts it.
      await until(
        "every process reports the master unreachable",
        async () => {
          const ms = await Promise.all([...stack.gateways, ...stack.workers].map((p) => scrape(p.metricsPort)));
          return ms.every(
            (m) =>
              value(m, NODES, { component: "gateway", state: "unreachable" }) +
                value(m, NODES, { component: "worker", state: "unreachable" }) ===
              1,
          );
        },
        FROZEN_MS,
        50,
      );
      at.unreachable = Date.now() - t0;
      // The replica takes over (as another master sees it), and the gateways are ready again while the old master is still frozen.
      const slot = await slotOf(other.master, keys.task(frozen.taskId));
      await until("the replica promoted", async () => (await masterSeenBy(other.master, slot)) !== node.address, FROZEN_MS, 50);
      at.failover = Date.now() - t0;
      await until("both gateways ready again", () => allReady(stack.gateways), FROZEN_MS, 50);
      at.readyAgain = Date.now() - t0;
      expect(at.readyAgain).toBeLessThan(FROZEN_MS);
      await new Promise((r) => setTimeout(r, FROZEN_MS - (Date.now() - t0))); // the rest of the fault's duration
    } finally {
      node.resume();
    }

    const [frozenEnd, otherEnd] = await expectHistories(runs, clients);
    expect(otherEnd).toMatchObject({ type: "agent_completed", data: { status: "succeeded" } });
    // Each gateway was unready once: from shortly after the freeze until shortly after the failover.
    const spans = await stopRecording();
    for (const mine of spans) {
      expect(mine).toHaveLength(1);
      expect((mine[0] as [number, number])[1]).toBeLessThan(FROZEN_MS);
    }
    for (const [i, p] of [...stack.gateways, ...stack.workers].entries()) {
      const component = i < stack.gateways.length ? "gateway" : "worker";
      const m = await scrape(p.metricsPort);
      expect(value(m, NODE_ERRORS, { component, node: node.address }), p.id).toBeGreaterThan(0);
      expect(value(m, NODES, { component, state: "unreachable" }), p.id).toBe(0);
      expect(value(m, NODES, { component, state: "reachable" }), p.id).toBe(3);
      expect(value(m, "agentcast_redis_cluster_topology_changes_total", { component }), p.id).toBeGreaterThan(0);
    }
    console.log(JSON.stringify({ ...at, resumed: FROZEN_MS, spans, frozenRun: frozenEnd?.type }));
  });

  it("every master frozen: the gateways are unready and reconnect; once they answer, every run finishes with its full history", async () => {
    const cluster = stack.cluster as NonNullable<Stack["cluster"]>;
    const { runs, clients } = await startRuns(() => true, 1);
    const masters = (await cluster.masters()).map((m) => m.node);
    const t0 = Date.now();
    for (const m of masters) m.pause();
    try {
      await until("the gateways unready", async () => (await Promise.all(stack.gateways.map(readyz))).every((s) => s === 503), 5_000, 50);
      await until(
        "a gateway found no master answering and reconnected",
        () => stack.gateways.every((g) => g.child.output.some((l) => l.includes("no redis cluster master answers; reconnecting"))),
        5_000,
        50,
      );
    } finally {
      for (const m of masters) m.resume();
    }
    const resumedMs = Date.now() - t0;
    await until("both gateways ready again", () => allReady(stack.gateways), 15_000, 50);
    const readyAgainMs = Date.now() - t0;
    const [end] = await expectHistories(runs, clients);
    expect(end).toMatchObject({ type: "agent_completed", data: { status: "succeeded" } });
    console.log(JSON.stringify({ resumedMs, readyAgainMs }));
  });
});
