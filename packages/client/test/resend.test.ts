// A send whose connection is cut right after the message left: whether or not the gateway got it,
// the SDK resends it (same messageId) after reconnecting, and the user ends up with exactly one run
// per send — never none, never two.
import { type LocalStack, signDevToken, startLocalStack } from "@agentcast/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createClient } from "../src/index.js";

describe("send() across a dropped connection", () => {
  let stack: LocalStack;
  beforeAll(async () => {
    stack = await startLocalStack({ gateways: 2, workers: 1, balancerPort: 0 });
  }, 60_000);
  afterAll(() => stack?.stop());

  it("starts exactly one run per send, whether the message or only its ack was lost", { timeout: 120_000 }, async () => {
    const balancer = stack.balancer;
    if (!balancer) throw new Error("no balancer");
    const client = createClient({
      url: stack.url,
      getToken: () => signDevToken("resend-user"),
      transports: ["websocket"],
      reconnectDelayMs: 100,
      reconnectDelayMaxMs: 300,
      commandTimeoutMs: 2_000,
    });
    const sends = 12;
    const taskIds: string[] = [];
    try {
      for (let i = 0; i < sends; i++) {
        const sent = client.send(`what is ${i}+${i}`);
        // Cut at a different moment each time: before, during or after the gateway handles it.
        await new Promise((r) => setTimeout(r, i * 3));
        balancer.block(200);
        balancer.cut();
        taskIds.push((await sent).taskId);
      }
    } finally {
      client.close();
    }
    expect(new Set(taskIds).size).toBe(sends);
    const token = await signDevToken("resend-user");
    const res = await fetch(`${stack.gateways[0]?.url}/v1/tasks?limit=100`, { headers: { authorization: `Bearer ${token}` } });
    const { tasks } = (await res.json()) as { tasks: { taskId: string; runs: number }[] };
    // One task per send, each with one run: nothing was started twice, nothing was dropped.
    expect(tasks.map((t) => t.taskId).sort()).toEqual([...taskIds].sort());
    expect(tasks.every((t) => t.runs === 1)).toBe(true);
    // And the cuts did lose acks of messages the gateway had already taken (it logs each resend it answered).
    const resent = stack.gateways.flatMap((g) => g.child.output).filter((l) => l.includes("message resent: same run"));
    expect(resent.length).toBeGreaterThan(0);
  });
});
