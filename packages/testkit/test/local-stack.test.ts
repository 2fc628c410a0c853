import type { EventEnvelope } from "@agentcast/protocol";
import { describe, expect, it } from "vitest";
import { GatewayTestClient, signDevToken, startLocalStack, validateRun } from "../src/index.js";

describe("startLocalStack", () => {
  it("starts redis, 2 gateways behind a round-robin balancer and a worker; a run completes; disposal stops everything", async () => {
    const processes: Promise<unknown>[] = [];
    {
      await using stack = await startLocalStack({ gateways: 2, workers: 1, balancerPort: 0 });
      processes.push(...[...stack.gateways, ...stack.workers].map((p) => p.child.exited));
      const token = await signDevToken("stack-user");
      const a = new GatewayTestClient({ url: stack.url, token });
      const b = new GatewayTestClient({ url: stack.url, token });
      const [ea, eb] = [await a.connect(), await b.connect()];
      expect(new Set([ea.gatewayId, eb.gatewayId])).toEqual(new Set(["gw-1", "gw-2"]));
      const ack = await a.command("user_message", { text: "what is 2+3" });
      if (!ack.ok) throw new Error(JSON.stringify(ack));
      await b.command("subscribe", { taskId: ack.taskId });
      const [ra, rb] = await Promise.all([a.collectRun(ack.taskId), b.collectRun(ack.taskId)]);
      expect(validateRun(ra, { userId: "stack-user" }).ok).toBe(true);
      expect(rb).toEqual(ra);
      expect((ra.at(-1) as EventEnvelope).data).toMatchObject({ result: { answer: "2+3 = 5" } });
      a.disconnect();
      b.disconnect();
    }
    const exits = await Promise.all(processes);
    expect(exits).toEqual(exits.map(() => ({ code: 0, signal: null })));
  });
});
