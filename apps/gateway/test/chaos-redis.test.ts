import type { EventEnvelope } from "@agentcast/protocol";
import type { GatewayTestClient } from "@agentcast/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Stack, seqProblem, startStack } from "./fixture.js";

const isTerminal = (e: EventEnvelope) => e.type === "agent_completed" || e.type === "agent_error";

describe("chaos: Redis restarts mid-run", () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ gateways: 2, workers: 1, workerEnv: { DEMO_STEP_MS: "100" } });
  });
  afterAll(() => stack?.stop());

  it("connected clients on both gateways end with a complete, gapless, duplicate-free run (or a clear agent_error)", async () => {
    const clients: GatewayTestClient[] = [];
    for (let i = 0; i < 10; i++) clients.push(await stack.client("chaos-redis", i % 2));
    const ack = await clients[0]?.command("user_message", { text: "/tools 30 what is 6*6" });
    if (!ack?.ok) throw new Error(JSON.stringify(ack));
    for (const c of clients.slice(1)) expect(await c.command("subscribe", { taskId: ack.taskId })).toMatchObject({ ok: true });
    await clients[0]?.waitFor("event", (p) => (p as EventEnvelope).seq >= 10);
    await stack.redis.stop(); // SIGTERM: AOF flushed
    await new Promise((r) => setTimeout(r, 1_500)); // the outage itself: Redis stays down 1.5 s mid-run
    await stack.redis.restart();
    const runs = await Promise.all(clients.map((c) => c.collectRun(ack.taskId, 30_000)));
    for (const run of runs) {
      const last = run.at(-1) as EventEnvelope;
      expect(isTerminal(last)).toBe(true);
      expect(
        seqProblem(
          run.map((e) => e.seq),
          1,
          last.seq,
        ),
      ).toBeNull();
    }
    // Every client saw the same run.
    for (const run of runs) expect(run).toEqual(runs[0]);
    // After the outage the gateways serve new runs live again.
    const next = await clients[1]?.command("user_message", { text: "what is 1+1" });
    if (!next?.ok) throw new Error(JSON.stringify(next));
    expect((await clients[1]?.collectRun(next.taskId))?.at(-1)?.type).toBe("agent_completed");
  });
});
