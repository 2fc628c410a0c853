// A command refused as rate_limited was not carried out: the SDK sends it again after the gateway's
// retryAfterMs, so a burst of subscribes (e.g. after a reconnect, one per followed task) never leaves a
// handle silently without its events.
import { type EventEnvelope, validateRunEvents } from "@agentcast/protocol";
import { type LocalStack, signDevToken, startLocalStack } from "@agentcast/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type AgentcastError, createClient } from "../src/index.js";

describe("rate-limited commands", () => {
  let stack: LocalStack;
  beforeAll(async () => {
    stack = await startLocalStack({
      gateways: 1,
      workers: 1,
      gatewayEnv: { RATE_LIMIT_COMMANDS_PER_SEC: "2", RATE_LIMIT_COMMANDS_BURST: "2" },
    });
  }, 60_000);
  afterAll(() => stack?.stop());

  it("a burst of subscribes beyond the bucket: every handle still gets its whole run, no error surfaces", async () => {
    const token = await signDevToken("rl-sdk");
    const taskIds: string[] = [];
    for (let i = 0; i < 5; i++) {
      const res = await fetch(`${stack.url}/v1/tasks`, {
        method: "POST",
        headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
        body: JSON.stringify({ text: `/tools 2 what is ${i}*${i}` }),
      });
      expect(res.status).toBe(202);
      taskIds.push(((await res.json()) as { taskId: string }).taskId);
    }
    const client = createClient({ url: stack.url, token, transports: ["websocket"] });
    const errors: AgentcastError[] = [];
    client.on("error", (e) => errors.push(e));
    try {
      // Five subscribes at once against a bucket of two: three are refused first, then sent again.
      const runs = await Promise.all(
        taskIds.map(
          (taskId) =>
            new Promise<EventEnvelope[]>((resolve) => {
              const seen: EventEnvelope[] = [];
              client.subscribe(taskId).on("*", (e) => {
                seen.push(e);
                if (e.type === "agent_completed" || e.type === "agent_error") resolve(seen);
              });
            }),
        ),
      );
      for (const run of runs) {
        expect(run.map((e) => e.seq)).toEqual(run.map((_, i) => i + 1));
        expect(validateRunEvents(run)).toEqual([]);
      }
      expect(errors).toEqual([]);
      // The bucket did refuse them (at least the three beyond it at first): the gateway counted them.
      const metrics = await (await fetch(`http://127.0.0.1:${stack.gateways[0]?.metricsPort}/metrics`)).text();
      expect(
        Number(/agentcast_gateway_limits_total\{[^}]*limit="commands_per_socket"[^}]*\} (\d+)/.exec(metrics)?.[1] ?? 0),
      ).toBeGreaterThanOrEqual(3);
    } finally {
      client.close();
    }
  });
});
