// Asynchronous replication loses writes the old master acknowledged (issue 14, fault 2), forced on a
// real 3+3 cluster: a task's replica is frozen and cut off while the run streams, so the next events
// reach clients live but never the replica; then the master and the run's worker are SIGKILLed together
// and the replica promoted. A second worker takes the stalled run over and ends it — its events take
// the lost seqs with other content. That is the hazard: a client that resumes with only `sinceSeq`
// (what a client did before this defence) drops them as duplicates and never learns the run ended —
// the test shows it happens. SDK clients — one connected throughout, one resuming with `sinceSeq` +
// `sinceId` — are told `task_reset` and end with exactly the task's history.
import type { AgentcastClient } from "@agentcast/client";
import { createClient } from "@agentcast/client";
import type { EventEnvelope } from "@agentcast/protocol";
import {
  GatewayTestClient,
  type LocalStack,
  signDevToken,
  startLocalStack,
  startWorkerProcess,
  until,
  type WorkerProcess,
} from "@agentcast/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ClusterView, clusterView, follow, idsOf, isTerminal, killAndPromote, replicateThenCut } from "./cluster-failover-helpers.js";

const USER = "loss-u";
const WORKER_ENV = { DEMO_STEP_MS: "150", JOB_LOCK_MS: "1000" };

/** A client that applies events as docs/protocol.md told clients before task_reset: each seq once, resume with sinceSeq only. */
class SeqOnlyClient {
  readonly applied: EventEnvelope[] = [];
  private client: GatewayTestClient | undefined;
  constructor(
    private readonly url: string,
    private readonly taskId: string,
  ) {}
  get lastSeq(): number {
    return this.applied.at(-1)?.seq ?? 0;
  }
  async follow(): Promise<void> {
    const client = new GatewayTestClient({ url: this.url, token: await signDevToken(USER) });
    this.client = client;
    client.socket.on("event", (e: EventEnvelope) => {
      if (e.taskId === this.taskId && e.seq === this.lastSeq + 1) this.applied.push(e);
    });
    await client.connect();
    const ack = await client.command("subscribe", { taskId: this.taskId, sinceSeq: this.lastSeq });
    if (!ack.ok) throw new Error(`subscribe refused: ${ack.error.code}`);
  }
  drop(): void {
    this.client?.disconnect();
  }
}

describe("cluster: a failover that lost events clients saw live", () => {
  let stack: LocalStack;
  let view: ClusterView;
  const workers: WorkerProcess[] = [];
  const sdk: AgentcastClient[] = [];
  beforeAll(async () => {
    stack = await startLocalStack({ redis: "cluster", gateways: 1, workers: 1, workerEnv: WORKER_ENV });
    view = clusterView(stack.cluster as NonNullable<LocalStack["cluster"]>);
  }, 90_000);
  afterAll(async () => {
    for (const c of sdk) c.close();
    view?.close();
    await Promise.all(workers.map((w) => w.stop("SIGKILL").catch(() => {})));
    await stack?.stop();
  });

  it("a seq-only client silently loses the events that took the lost seqs; SDK clients are reset and end with the history", {
    timeout: 120_000,
  }, async () => {
    const cluster = stack.cluster as NonNullable<LocalStack["cluster"]>;
    const url = stack.gateways[0]?.url as string;
    const sdkClient = () => {
      const c = createClient({ url, getToken: () => signDevToken(USER), transports: ["websocket"], reconnectDelayMs: 100 });
      sdk.push(c);
      return c;
    };
    const creator = sdkClient();
    // A task whose master does not also hold the run queue: the queue (and the stalled job) survive the kill.
    const queueMaster = await view.queueMaster();
    let taskId = "";
    for (let i = 0; i < 10 && !taskId; i++) {
      const sent = await creator.send("/tools 50 what is 6*7");
      if ((await view.masterOfTask(sent.taskId)).address !== queueMaster.address) taskId = sent.taskId;
    }
    expect(taskId).not.toBe("");
    const master = await view.masterOfTask(taskId);
    const [replica] = await cluster.replicasOf(master);
    if (!replica) throw new Error("the task's master has no replica");

    const live = follow(sdkClient(), taskId); // connected throughout
    const resumerClient = sdkClient();
    const resumer = follow(resumerClient, taskId); // offline across the failover
    const seqOnly = new SeqOnlyClient(url, taskId);
    await seqOnly.follow();

    // Streaming, and what the clients have is on the replica.
    await until(
      () => `5 events at every client (live ${live.seen.length}, resumer ${resumer.seen.length}, seq-only ${seqOnly.applied.length})`,
      () => [live.seen.length, resumer.seen.length, seqOnly.applied.length].every((n) => n >= 5),
      30_000,
    );
    // The replica misses what comes next; the clients get it live.
    const replicated = await replicateThenCut(view, master, replica, taskId, () => live.seen.at(-1)?.seq ?? 0);
    await until(
      () => `3 events past seq ${replicated} at every client`,
      () => [live.seen, resumer.seen, seqOnly.applied].every((s) => (s.at(-1)?.seq ?? 0) >= replicated + 3),
      10_000,
    );
    resumerClient.socket.disconnect();
    seqOnly.drop();
    const lost = live.seen.filter((e) => e.seq > replicated); // seen live, never replicated
    // Taken before the kill: once the replica is promoted the live client is reset to its (shorter) history.
    const lastSeenLive = live.seen.at(-1)?.seq ?? 0;

    // The master and the run's worker die together; the replica is promoted; another worker takes the run over.
    await Promise.all([stack.workers[0]?.stop("SIGKILL"), killAndPromote(view, master, replica, taskId)]);
    const onPromoted = await view.history(taskId);
    expect(onPromoted.at(-1)?.seq).toBeLessThan(lastSeenLive); // the loss is real
    workers.push(await startWorkerProcess({ redisClusterNodes: stack.redisClusterNodes, id: "wk-takeover", env: WORKER_ENV }));
    const firstRun = await until(
      () => "the taken-over run to end in history",
      async () => {
        const h = await view.history(taskId);
        return h.some(isTerminal) ? h : false;
      },
      30_000,
      100,
    );
    // The hazard: events that are not what the clients saw now hold the lost seqs.
    const rewritten = firstRun.filter((e) => lost.some((l) => l.seq === e.seq && l.id !== e.id));
    expect(rewritten.length).toBeGreaterThan(0);
    expect(rewritten.at(-1)?.type).toBe("agent_error"); // run_stalled, at a seq the clients already had

    // Both offline clients come back; a follow-up run is the marker that must reach every client.
    resumerClient.socket.connect();
    await seqOnly.follow();
    const followUp = await creator.send("/tools 2 what is 1+1", { taskId });
    const ended = (seen: readonly EventEnvelope[]) => seen.some((e) => e.runId === followUp.runId && isTerminal(e));
    await until(
      () =>
        `the follow-up's end at every client (live ${ended(live.seen)}, resumer ${ended(resumer.seen)}, seq-only ${ended(seqOnly.applied)})`,
      () => ended(live.seen) && ended(resumer.seen) && ended(seqOnly.applied),
      60_000,
    );
    const history = await view.history(taskId);

    // Without the check: gapless to the client, but not the task's history — the run's end is lost to it.
    expect(seqOnly.applied.map((e) => e.seq)).toEqual(seqOnly.applied.map((_, i) => i + 1));
    expect(idsOf(seqOnly.applied)).not.toEqual(idsOf(history));
    const runEnd = firstRun.find(isTerminal) as EventEnvelope;
    expect(seqOnly.applied.some((e) => e.id === runEnd.id)).toBe(false);
    expect(seqOnly.applied.some((e) => lost.some((l) => l.id === e.id) && !history.some((h) => h.id === e.id))).toBe(true);

    // With it: reset, then exactly the history — gapless, no duplicates, the run's end included.
    for (const f of [live, resumer]) {
      expect(f.resets).toBeGreaterThanOrEqual(1);
      expect(idsOf(f.seen)).toEqual(idsOf(history));
      expect(f.seen.map((e) => e.seq)).toEqual(f.seen.map((_, i) => (f.seen[0]?.seq ?? 1) + i));
      expect(f.seen.some((e) => e.id === runEnd.id)).toBe(true);
    }
  });

  it("when the run's worker survives, it re-sends the lost events as they were and the run completes", { timeout: 120_000 }, async () => {
    const cluster = stack.cluster as NonNullable<LocalStack["cluster"]>;
    const url = stack.gateways[0]?.url as string;
    const client = () => {
      const c = createClient({ url, getToken: () => signDevToken(USER), transports: ["websocket"], reconnectDelayMs: 100 });
      sdk.push(c);
      return c;
    };
    // The first test's worker was killed there; its takeover worker runs this one (started here if that test stopped early).
    if (workers.length === 0)
      workers.push(await startWorkerProcess({ redisClusterNodes: stack.redisClusterNodes, id: "wk-2", env: WORKER_ENV }));
    // A master that still has its replica, and not the queue's.
    const queueMaster = (await view.queueMaster()).address;
    const creator = client();
    let taskId = "";
    for (let i = 0; i < 20 && !taskId; i++) {
      const sent = await creator.send("/tools 50 what is 6*7");
      const m = await view.masterOfTask(sent.taskId);
      if (m.address !== queueMaster && (await cluster.replicasOf(m)).length > 0) taskId = sent.taskId;
    }
    expect(taskId).not.toBe("");
    const master = await view.masterOfTask(taskId);
    const [replica] = await cluster.replicasOf(master);
    if (!replica) throw new Error("the task's master has no replica");
    const live = follow(client(), taskId);
    await until(
      () => `5 events (${live.seen.length})`,
      () => live.seen.length >= 5,
      30_000,
    );
    const replicated = await replicateThenCut(view, master, replica, taskId, () => live.seen.at(-1)?.seq ?? 0);
    await until(
      () => `3 events past seq ${replicated}`,
      () => (live.seen.at(-1)?.seq ?? 0) >= replicated + 3,
      10_000,
    );
    const lost = live.seen.filter((e) => e.seq > replicated);
    await killAndPromote(view, master, replica, taskId);
    await until(
      () => "the run to complete at the client",
      () => live.seen.some(isTerminal),
      60_000,
    );
    const history = await view.history(taskId);
    // Restored as they were (same seq, id), and the run went on to complete.
    for (const e of lost) expect(history.find((h) => h.seq === e.seq)?.id).toBe(e.id);
    expect(history.at(-1)?.type).toBe("agent_completed");
    expect(idsOf(live.seen)).toEqual(idsOf(history));
    const worker = stack.workers.concat(workers).flatMap((w) => w.child.output);
    expect(worker.some((l) => l.includes("Redis lost this run's last events"))).toBe(true);
  });
});
