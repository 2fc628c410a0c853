import { describe, expect, it } from "vitest";
import { GatewayTestClient, signDevToken, startLocalStack } from "../src/index.js";

describe("GatewayTestClient", () => {
  it("receive()/receiveJson() return messages in arrival order; timeouts list what did arrive", async () => {
    await using stack = await startLocalStack({ gateways: 1, workers: 1 });
    await using client = new GatewayTestClient({ url: stack.url, token: await signDevToken("tc") });
    await client.connect();
    expect((await client.receive()).name).toBe("connection_established");
    const ack = await client.command("user_message", { text: "what is 1+1" });
    if (!ack.ok) throw new Error(JSON.stringify(ack));
    expect(await client.receiveJson()).toMatchObject({ event: "task_created", data: { taskId: ack.taskId } });
    const first = await client.receiveJson({ timeoutMs: 5_000 });
    expect(first).toMatchObject({ event: "event", data: { type: "agent_started", seq: 1 } });
    await client.collectRun(ack.taskId);
    await expect(client.waitFor("pong", undefined, { timeoutMs: 200 })).rejects.toThrow(
      /waiting for "pong"; received: .*event\(agent_completed#\d+\)/,
    );
  });
});
