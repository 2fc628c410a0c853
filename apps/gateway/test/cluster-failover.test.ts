// A master SIGKILLed mid-run (issue 14, fault 2) on a real 3+3 cluster: 1,000 SDK clients over 2 gateway
// processes follow runs whose tasks all live on that master. The cluster promotes its replica, the
// gateways move their subscriptions, the worker keeps publishing (re-sending what the failover lost);
// every client must end with exactly its task's history as the promoted master holds it — gapless, no
// duplicates, each run valid and ended. Also measured: how long until every client streams again.
import { type AgentcastClient, createClient } from "@agentcast/client";
import { type EventEnvelope, validateRunEvents } from "@agentcast/protocol";
import { type LocalStack, signDevToken, startLocalStack, until } from "@agentcast/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ClusterView, clusterView, type Followed, follow, idsOf, isTerminal } from "./cluster-failover-helpers.js";

const USERS = 60;
const CLIENTS = 1_000;

describe.each([
  { waitReplicas: "0", label: "REDIS_WAIT_REPLICAS=0 (default)" },
  { waitReplicas: "1", label: "REDIS_WAIT_REPLICAS=1" },
])("cluster: a master SIGKILLed mid-run under 1,000 clients, $label", ({ waitReplicas }) => {
  let stack: LocalStack;
  let view: ClusterView;
  const clients: AgentcastClient[] = [];
  beforeAll(async () => {
    stack = await startLocalStack({
      redis: "cluster",
      gateways: 2,
      workers: 1,
      gatewayEnv: { CONNECT_RATE_PER_IP_PER_SEC: "100000", CONNECT_BURST_PER_IP: "100000", MAX_CONNECTIONS_PER_USER: "200" },
      workerEnv: { WORKER_CONCURRENCY: String(USERS), DEMO_STEP_MS: "300", REDIS_WAIT_REPLICAS: waitReplicas },
    });
    view = clusterView(stack.cluster as NonNullable<LocalStack["cluster"]>);
  }, 90_000);
  afterAll(async () => {
    for (const c of clients) c.close();
    view?.close();
    await stack?.stop();
  });

  it("every client ends with exactly its task's history: gapless, no duplicates, every run ended", { timeout: 180_000 }, async () => {
    const connect = (user: string, gateway: number) => {
      const url = stack.gateways[gateway % stack.gateways.length]?.url as string;
      const c = createClient({ url, getToken: () => signDevToken(user), transports: ["websocket"], reconnectDelayMs: 200 });
      clients.push(c);
      return c;
    };
    // One long run per user (~18 s: 50 tool calls of 300 ms, so none ends before 1,000 clients follow on a busy machine); the tasks spread over the three masters.
    const creators = Array.from({ length: USERS }, (_, i) => connect(`fo-${i}`, i));
    const sent = await Promise.all(creators.map((c) => c.send("/tools 50 what is 6*7")));
    const byMaster = new Map<string, { user: string; taskId: string }[]>();
    for (const [i, s] of sent.entries()) {
      const address = (await view.masterOfTask(s.taskId)).address;
      byMaster.set(address, [...(byMaster.get(address) ?? []), { user: `fo-${i}`, taskId: s.taskId }]);
    }
    // The master to kill: the busiest one that does not hold the run queue.
    const queueMaster = (await view.queueMaster()).address;
    const [victimAddress, tasks] =
      [...byMaster.entries()].filter(([a]) => a !== queueMaster).sort((x, y) => y[1].length - x[1].length)[0] ?? [];
    if (!victimAddress || !tasks) throw new Error("no master to kill");
    const victim = (await (stack.cluster as NonNullable<LocalStack["cluster"]>).masters()).find(
      (m) => m.node.address === victimAddress,
    )?.node;
    if (!victim) throw new Error("victim not found");

    // 1,000 clients, alternating between the two gateways, each following one of the victim's tasks.
    const followers = Array.from({ length: CLIENTS }, (_, i) => {
      const task = tasks[i % tasks.length] as { user: string; taskId: string };
      return { task, f: follow(connect(task.user, i), task.taskId) };
    });
    await until(
      () => `every client to see its run stream (${followers.filter(({ f }) => f.seen.length < 4).length} have not)`,
      () => followers.every(({ f }) => f.seen.length >= 4),
      60_000,
      100,
    );
    expect(followers.filter(({ f }) => f.seen.some(isTerminal))).toHaveLength(0); // mid-run

    // Kill it. Per client, the longest wait for its next event from then on: the outage it saw.
    const killedAt = Date.now();
    const stalls = followers.map(({ f }) => longestStall(f, killedAt));
    await victim.stop(false);
    await until(
      () => `every run to end at every client (${followers.filter(({ f }) => !f.seen.some(isTerminal)).length} have not)`,
      () => followers.every(({ f }) => f.seen.some(isTerminal)),
      120_000,
      200,
    );

    const histories = new Map<string, EventEnvelope[]>();
    for (const { taskId } of tasks) histories.set(taskId, await view.history(taskId));
    let mismatched = 0;
    for (const { task, f } of followers) {
      const history = histories.get(task.taskId) as EventEnvelope[];
      if (idsOf(f.seen).join() !== idsOf(history).join()) mismatched++;
    }
    expect(mismatched).toBe(0);
    for (const [taskId, history] of histories) {
      expect(
        history.map((e) => e.seq),
        taskId,
      ).toEqual(history.map((_, i) => i + 1));
      expect(validateRunEvents(history), taskId).toEqual([]);
      expect(history.at(-1)?.type, taskId).toBe("agent_completed");
    }
    const outageMs = stalls.map((s) => s()).sort((a, b) => a - b);
    const worker = stack.workers[0]?.child.output ?? [];
    const report = {
      waitReplicas,
      tasksOnKilledMaster: tasks.length,
      clients: followers.length,
      clientsReset: followers.filter(({ f }) => f.resets > 0).length,
      runsRepaired: worker.filter((l) => l.includes("Redis lost this run's last events")).length,
      unreplicatedEvents: worker.filter((l) => l.includes("event published before its replicas acknowledged it")).length,
      outageMs: { median: outageMs[Math.floor(outageMs.length / 2)], max: outageMs.at(-1) },
      eventsLost: mismatched,
    };
    process.stdout.write(`cluster-failover: ${JSON.stringify(report)}\n`);
    expect(outageMs.at(-1)).toBeLessThan(30_000);
  });
});

/** From `since` on, the longest time the client waited for its next event (until its run ended): read it at the end. */
function longestStall(f: Followed, since: number): () => number {
  let last = since;
  let longest = 0;
  let ended = false;
  f.handle.on("*", (e) => {
    if (ended) return;
    const now = Date.now();
    longest = Math.max(longest, now - last);
    last = now;
    ended = isTerminal(e);
  });
  return () => longest;
}
