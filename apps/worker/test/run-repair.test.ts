// A failover that loses a live run's last events (issue 14, fault 2). Real Redis: a master, its replica
// and a TCP balancer in front that the worker's connection goes through. The replica is frozen and its
// link cut while the run publishes two events, the master is SIGKILLed, the replica promoted (REPLICAOF NO ONE) and the
// balancer pointed at it — what a cluster failover does to a run, without the cluster. The promoted
// replica lacks the two events; the run's next event is refused `out_of_order` at their index, and the
// run re-sends them as they were (same seq, id, content) before carrying on: history ends as the master
// had it, plus the rest of the run.
import { type EventEnvelope, validateRunEvents } from "@agentcast/protocol";
import type { SilentFailure } from "@agentcast/runtime";
import { ConversationStore, createKeys, EventLog, EventPublisher, TaskStore } from "@agentcast/store";
import { type RedisServerHandle, startRedisServer, startTcpBalancer, type TcpBalancer, until } from "@agentcast/testkit";
import { Redis } from "ioredis";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { AgentContext } from "../src/agents/agent.js";
import { ActiveRuns } from "../src/control/active-runs.js";
import { type ExecuteRunDeps, executeRun } from "../src/runs/execute-run.js";

let master: RedisServerHandle;
let replica: RedisServerHandle;
let balancer: TcpBalancer;
let worker: Redis;
let onMaster: Redis;
let onReplica: Redis;

beforeAll(async () => {
  master = await startRedisServer();
  replica = await startRedisServer({ args: ["--replicaof", "127.0.0.1", String(master.port)] });
  balancer = await startTcpBalancer({ backends: [master.port] });
  worker = new Redis(balancer.port, "127.0.0.1", { maxRetriesPerRequest: 20 });
  worker.on("error", () => {}); // the master is killed under it
  onMaster = new Redis(master.url, { maxRetriesPerRequest: 0, retryStrategy: () => null });
  onMaster.on("error", () => {});
  onReplica = new Redis(replica.url);
  await until(
    () => "the replica to sync",
    async () => /master_link_status:up/.test(await onReplica.info("replication")),
    10_000,
  );
});
afterAll(async () => {
  for (const c of [worker, onMaster, onReplica]) c?.disconnect();
  replica?.resume();
  await balancer?.close();
  await replica?.[Symbol.asyncDispose]();
  await master?.[Symbol.asyncDispose]();
});

function gate() {
  let open!: () => void;
  const opened = new Promise<void>((r) => {
    open = r;
  });
  return { open, opened };
}

describe("a failover lost the run's last events", () => {
  it("the run re-sends them as they were, then carries on: history is what the master had, plus the rest", async () => {
    const keys = createKeys("repair");
    const tasks = new TaskStore(worker, { keys, historyTtlSeconds: 60 });
    const eventLog = new EventLog(worker, keys);
    const failures: SilentFailure[] = [];
    const deps: ExecuteRunDeps = {
      eventLog,
      conversations: new ConversationStore(worker, keys),
      conversationBounds: { maxTurns: 50, maxBytes: 262_144, maxAnswerChars: 32_768, ttlSeconds: 60 },
      publisher: new EventPublisher(worker, { keys, historyMaxLen: 1_000, historyTtlSeconds: 60 }),
      tasks,
      logger: pino({ level: "silent" }),
      pollIntervalMs: 1_000,
      requeue: async () => {},
      observer: { published: () => {}, toolFinished: () => {}, silentFailure: (k) => failures.push(k), runEnded: () => {} },
    };
    const active = new ActiveRuns(onReplica, keys.controlChannel, tasks, 1_000, 60_000, deps.logger);
    const { taskId, runId } = await tasks.createTask("u", "repair");
    const beforeLoss = gate();
    const afterFailover = gate();
    const outcome = executeRun(
      { taskId, runId, userId: "u", text: "repair" },
      runId,
      {
        name: "stepped",
        async run(ctx: AgentContext) {
          await ctx.output("kept");
          await beforeLoss.opened;
          await ctx.output("lost 1");
          await ctx.output("lost 2");
          await afterFailover.opened;
          await ctx.output("after");
          return { result: "done" };
        },
      },
      active,
      deps,
    );
    const history = async (client: Redis) => (await new EventLog(client, keys).readAfter(taskId, 0, 100)) as EventEnvelope[];
    const deltas = (events: EventEnvelope[]) => events.map((e) => (e.data as { delta?: string }).delta ?? e.type);

    await until(
      () => "the first output on the replica",
      async () => (await history(onReplica)).length === 2,
      5_000,
    );
    // The replica stops taking the master's writes: frozen, and its link cut (else it would read them
    // from its socket buffer once resumed).
    replica.pause();
    await onMaster.client("KILL", "TYPE", "replica");
    beforeLoss.open();
    await until(
      () => "both lost events on the master",
      async () => (await history(onMaster)).length === 4,
      5_000,
    );
    const onMasterBeforeKill = await history(onMaster);
    await master.stop(false);
    replica.resume();
    await onReplica.replicaof("NO", "ONE");
    balancer.setBackends([replica.port]);
    balancer.cut();
    expect(deltas(await history(onReplica))).toEqual(["agent_started", "kept"]); // the loss is real
    afterFailover.open();

    expect(await outcome).toBe("succeeded");
    const final = await history(onReplica);
    expect(deltas(final)).toEqual(["agent_started", "kept", "lost 1", "lost 2", "after", "agent_completed"]);
    // The lost events are back exactly as clients saw them live: same seq, id, ts and data.
    expect(final.slice(0, 4)).toEqual(onMasterBeforeKill);
    expect(final.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(validateRunEvents(final)).toEqual([]);
    expect(failures.filter((k) => k === "failover_lost_events")).toHaveLength(1);
  });
});
