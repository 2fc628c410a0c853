// Chaos: 1,000 SDK clients behind a balancer lose their connections for 2 s every 15 s, for 2 minutes,
// while their users' runs stream back to back. Every client must end holding every event of its
// user's task — every run, each seq once, in order — nothing more.
import type { AgentcastClient } from "@agentcast/client";
import { type EventEnvelope, validateRunEvents } from "@agentcast/protocol";
import { type LocalStack, signDevToken, until } from "@agentcast/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sdkClients, startLoadStack } from "./load-stack.js";

const USERS = 50;
const CLIENTS_PER_USER = 20;
const DURATION_MS = 120_000;
const DROP_EVERY_MS = 15_000;
const DROP_FOR_MS = 2_000;
const terminal = (e: EventEnvelope) => e.type === "agent_completed" || e.type === "agent_error";
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Every event of a task, from the gateway's HTTP API (owner token), paging through history. */
async function taskHistory(baseUrl: string, token: string, taskId: string): Promise<EventEnvelope[]> {
  const events: EventEnvelope[] = [];
  for (let page = 0; page < 100; page++) {
    const res = await fetch(`${baseUrl}/v1/tasks/${taskId}/events?sinceSeq=${events.at(-1)?.seq ?? 0}`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { events: EventEnvelope[] };
    if (body.events.length === 0) break;
    events.push(...body.events);
  }
  return events;
}

describe("chaos: 1k clients dropped for 2 s every 15 s while runs stream", () => {
  let stack: LocalStack;
  beforeAll(async () => {
    stack = await startLoadStack(USERS, 50);
  }, 60_000);
  afterAll(() => stack?.stop());

  it("100 % delivered, in order, to every client", { timeout: DURATION_MS + 120_000 }, async () => {
    const balancer = stack.balancer;
    if (!balancer) throw new Error("no balancer");
    const clients = sdkClients(
      stack.url,
      { users: USERS, perUser: CLIENTS_PER_USER, prefix: "flaky" },
      {
        reconnectDelayMs: 250,
        reconnectDelayMaxMs: 1_000,
        commandTimeoutMs: 5_000,
      },
    );
    try {
      const drivers = clients.slice(0, USERS);
      const taskIds = await Promise.all(drivers.map(async (c) => (await c.send("/tools 3 what is 1+1")).taskId));
      const followed = clients.map((c, i) => {
        const taskId = taskIds[i % USERS] as string;
        const seen: EventEnvelope[] = [];
        c.subscribe(taskId).on("*", (e) => seen.push(e));
        return { seen, taskId, userId: `flaky-${i % USERS}`, user: i % USERS };
      });

      // Each driver starts its next run as soon as the previous one has ended, until the time is up.
      const started = Date.now();
      const runsStarted = new Array<number>(USERS).fill(1);
      const drive = async (u: number) => {
        const driver = followed[u] as (typeof followed)[0];
        for (let attempt = 0; Date.now() - started < DURATION_MS && attempt < 1_000; attempt++) {
          const ended = driver.seen.filter(terminal).length;
          if (ended < runsStarted[u]!) {
            await sleep(100); // driver pacing: look again whether the run ended (the loop is bounded by DURATION_MS)
            continue;
          }
          try {
            await (drivers[u] as AgentcastClient).send("/tools 3 what is 2+3", { taskId: taskIds[u] as string });
            runsStarted[u]!++;
          } catch {
            await sleep(500); // disconnected or task_busy during a drop: try again
          }
        }
      };
      const chaos = (async () => {
        for (let t = DROP_EVERY_MS; t < DURATION_MS; t += DROP_EVERY_MS) {
          await sleep(started + t - Date.now()); // the chaos schedule: a drop every DROP_EVERY_MS
          balancer.block(DROP_FOR_MS);
          balancer.cut();
        }
      })();
      await Promise.all([...Array.from({ length: USERS }, (_, u) => drive(u)), chaos]);

      // Let the last runs finish; then the task's history is the source of truth for every client.
      const running = () =>
        followed.slice(0, USERS).filter((f) => f.seen.at(-1) === undefined || !terminal(f.seen.at(-1) as EventEnvelope));
      await until(
        () => `the last runs to end (${running().length} of ${USERS} drivers still see a run going)`,
        () => running().length === 0,
        60_000,
        200,
      );
      const histories = await Promise.all(
        taskIds.map(async (taskId, u) => taskHistory(stack.gateways[1]?.url ?? "", await signDevToken(`flaky-${u}`), taskId)),
      );
      const short = () => followed.filter((f) => f.seen.length < (histories[f.user]?.length ?? 0));
      await until(
        () =>
          `every client to catch up with its task's history; ${short().length} hold fewer events, e.g. ${JSON.stringify(
            short()
              .slice(0, 5)
              .map((f) => ({
                user: f.user,
                got: f.seen.length,
                want: histories[f.user]?.length,
                state: clients[followed.indexOf(f)]?.state,
              })),
          )}`,
        () => short().length === 0,
        60_000,
        200,
      );

      const behind = followed
        .map((f, i) => ({
          i,
          user: f.user,
          got: f.seen.length,
          want: histories[f.user]?.length,
          state: clients[i]?.state,
          last: f.seen.at(-1)?.seq,
        }))
        .filter((b) => b.got !== b.want);
      // Named first, so a failure says which clients fell behind and in what connection state.
      expect(behind.slice(0, 10), `${behind.length} clients do not hold their task's history`).toEqual([]);
      for (const f of followed) {
        const history = histories[f.user] as EventEnvelope[];
        expect(history.at(-1)?.type).toMatch(/^agent_(completed|error)$/);
        // Exactly the task's history: every event once, in seq order, nothing more.
        expect(f.seen.map((e) => e.seq)).toEqual(history.map((e) => e.seq));
        expect(f.seen).toEqual(history);
        for (const runId of new Set(f.seen.map((e) => e.runId)))
          expect(validateRunEvents(f.seen.filter((e) => e.runId === runId))).toEqual([]);
      }
      // Runs streamed through the whole window, so every drop hit runs mid-stream.
      expect(Math.min(...histories.map((h) => h.filter(terminal).length))).toBeGreaterThanOrEqual(5);
    } finally {
      for (const c of clients) c.close();
    }
  });
});
