// Chaos: one of two gateways is SIGKILLed mid-run under 1,000 SDK clients behind a balancer. Every
// client must end with its task's complete run: gapless, duplicate-free, valid — nothing more.
import { type EventEnvelope, validateRunEvents } from "@agentcast/protocol";
import type { LocalStack } from "@agentcast/testkit";
import { until } from "@agentcast/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sdkClients, startLoadStack } from "./load-stack.js";

const USERS = 100;
const CLIENTS_PER_USER = 10;
const terminal = (e: EventEnvelope) => e.type === "agent_completed" || e.type === "agent_error";

describe("chaos: a gateway is SIGKILLed mid-run with 1k clients", () => {
  let stack: LocalStack;
  beforeAll(async () => {
    stack = await startLoadStack(USERS, 80);
  }, 60_000);
  afterAll(() => stack?.stop());

  it("every client resumes on the surviving gateway and holds exactly its run", { timeout: 180_000 }, async () => {
    const [g1, g2] = stack.gateways as [(typeof stack.gateways)[0], (typeof stack.gateways)[0]];
    const clients = sdkClients(
      stack.url,
      { users: USERS, perUser: CLIENTS_PER_USER, prefix: "kill" },
      {
        reconnectDelayMs: 200,
        reconnectDelayMaxMs: 2_000,
      },
    );
    const reconnected = new Set<number>();
    for (const [i, c] of clients.entries()) c.on("state", (s) => s === "reconnecting" && reconnected.add(i));
    try {
      // One run per user, started by the user's first client; every client follows it.
      const taskIds = await Promise.all(clients.slice(0, USERS).map(async (c) => (await c.send("/slow /tools 12 what is 6*7")).taskId));
      const followed = clients.map((c, i) => {
        const handle = c.subscribe(taskIds[i % USERS] as string);
        const seen: EventEnvelope[] = [];
        const done = new Promise<void>((resolve) =>
          handle.on("*", (e) => {
            seen.push(e);
            if (terminal(e)) resolve();
          }),
        );
        return { seen, done, userId: `kill-${i % USERS}`, taskId: taskIds[i % USERS] };
      });
      // Mid-run: every client has seen its run start, none has seen it end.
      await until(
        () => `every client to see its run stream (${followed.filter((f) => f.seen.length < 3).length} have not)`,
        () => followed.every((f) => f.seen.length >= 3),
        60_000,
        100,
      );
      expect(followed.filter((f) => f.seen.some(terminal))).toHaveLength(0);

      stack.balancer?.setBackends([g2.port]);
      await g1.kill();
      await Promise.race([
        Promise.all(followed.map((f) => f.done)),
        new Promise((_, reject) => setTimeout(() => reject(new Error("runs did not all complete in 120 s")), 120_000)),
      ]);

      // About half the clients were on the killed gateway and had to reconnect.
      expect(reconnected.size).toBeGreaterThan(USERS * CLIENTS_PER_USER * 0.3);
      for (const f of followed) {
        expect(f.seen.map((e) => e.seq)).toEqual(f.seen.map((_, i) => i + 1));
        expect(validateRunEvents(f.seen)).toEqual([]);
        expect(f.seen.at(-1)?.type).toBe("agent_completed");
        expect(f.seen.every((e) => e.userId === f.userId && e.taskId === f.taskId)).toBe(true);
      }
    } finally {
      for (const c of clients) c.close();
    }
  });
});
