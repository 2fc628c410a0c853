import { DEV_JWT_SECRET, GatewayTestClient, jsonLine, signDevToken } from "@agentcast/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Stack, startStack } from "./fixture.js";

describe("logs", () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ gateways: 1, workers: 1, gatewayEnv: { LOG_LEVEL: "trace" }, workerEnv: { LOG_LEVEL: "trace" } });
  });
  afterAll(() => stack?.stop());

  const lines = () => [...stack.gateways, ...stack.workers].flatMap((p) => p.child.output);
  const records = () =>
    lines()
      .map(jsonLine)
      .filter((r): r is Record<string, unknown> => r !== undefined);

  it("carry ids, one line per connection open/close, command failure and run start/end — and never a token or secret", async () => {
    const token = await signDevToken("lena");
    const forged = await signDevToken("lena", { secret: "forged-secret-forged-secret-0123456789" });
    const c = new GatewayTestClient({ url: stack.gateways[0]?.url ?? "", token });
    const { connectionId } = await c.connect();
    const ack = await c.command("user_message", { text: "/ask what is 6*7" });
    if (!ack.ok) throw new Error(JSON.stringify(ack));
    const q = await c.waitForEvent("agent_question", ack.taskId);
    if (q.type !== "agent_question") throw new Error("unreachable");
    await c.command("user_response", { taskId: ack.taskId, questionId: q.data.questionId, response: "ok" });
    await c.collectRun(ack.taskId);
    await c.command("subscribe", { taskId: "t_nope" });
    await fetch(`${stack.gateways[0]?.url}/v1/tasks`, { headers: { authorization: `Bearer ${token}` } });
    await fetch(`${stack.gateways[0]?.url}/v1/tasks`, { headers: { authorization: `Bearer ${forged}` } });
    const bad = new GatewayTestClient({ url: stack.gateways[0]?.url ?? "", token: forged });
    await bad.connectExpectingError();
    bad.disconnect();
    c.disconnect();
    await new Promise((r) => setTimeout(r, 300));

    const all = lines().join("\n");
    for (const secret of [token, forged, DEV_JWT_SECRET, token.split(".")[2] as string]) expect(all).not.toContain(secret);

    const rs = records();
    expect(rs.every((r) => typeof r.gatewayId === "string" || typeof r.workerId === "string")).toBe(true);
    const opened = rs.filter((r) => r.msg === "connection opened" && r.connectionId === connectionId);
    const closed = rs.filter((r) => r.msg === "connection closed" && r.connectionId === connectionId);
    expect(opened).toHaveLength(1);
    expect(opened[0]).toMatchObject({ userId: "lena", transport: "websocket" });
    expect(closed).toHaveLength(1);
    expect(closed[0]).toMatchObject({ userId: "lena", reason: "client namespace disconnect", durationMs: expect.any(Number) });
    expect(rs.filter((r) => r.msg === "command failed" && r.connectionId === connectionId && r.code === "not_found")).toHaveLength(1);
    const runLines = rs.filter((r) => r.runId === ack.runId && (r.msg === "run started" || r.msg === "run ended"));
    expect(runLines.map((r) => r.msg)).toEqual(["run started", "run ended"]);
    expect(runLines[1]).toMatchObject({ taskId: ack.taskId, jobId: ack.runId, outcome: "succeeded", workerId: expect.any(String) });
  });
});
