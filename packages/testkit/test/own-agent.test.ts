import type { EventEnvelope } from "@agentcast/protocol";
import { describe, expect, it } from "vitest";
import { GATEWAY_ENTRY, GatewayTestClient, signDevToken, startLocalStack, validateRun, WORKER_ENTRY } from "../src/index.js";

const ECHO_AGENT = new URL("./fixtures/echo-agent.mjs", import.meta.url).pathname;

describe("startLocalStack with a team's own agent and explicit entry points", () => {
  it("agentModule: the team's agent runs inside a real worker, end to end through the gateway", async () => {
    await using stack = await startLocalStack({ gateways: 1, workers: 1, agentModule: ECHO_AGENT, gatewayEntry: GATEWAY_ENTRY });
    expect(stack.workers[0]?.child.output.join("\n")).toMatch(/"agent":"echo"/);
    await using client = new GatewayTestClient({ url: stack.url, token: await signDevToken("team") });
    await client.connect();
    const ack = await client.command("user_message", { text: "hello team" });
    if (!ack.ok) throw new Error(JSON.stringify(ack));
    const run = await client.collectRun(ack.taskId);
    const report = validateRun(run, { userId: "team", expectStatus: ["succeeded"] });
    expect(report.checks.filter((c) => c.status === "fail")).toEqual([]);
    expect(run.find((e) => e.type === "tool_executing")?.data).toMatchObject({ tool: "shout" });
    expect((run.at(-1) as EventEnvelope).data).toMatchObject({ status: "succeeded", result: { shouted: "HELLO TEAM", by: "echo-agent" } });
  });

  it("workerEntry/gatewayEntry are used as given; a missing one fails loudly, naming the path", async () => {
    await expect(startLocalStack({ gateways: 1, workers: 0, gatewayEntry: "/nonexistent/gateway-main.js" })).rejects.toThrow(
      "gateway entry not found: /nonexistent/gateway-main.js",
    );
    await expect(startLocalStack({ gateways: 1, workers: 1, workerEntry: "/nonexistent/my-worker.js" })).rejects.toThrow(
      "worker entry not found: /nonexistent/my-worker.js",
    );
    // The defaults resolve to built files (the installed packages or this repository's apps).
    expect(GATEWAY_ENTRY).toMatch(/gateway\/dist\/main\.js$/);
    expect(WORKER_ENTRY).toMatch(/worker\/dist\/main\.js$/);
  });
});
