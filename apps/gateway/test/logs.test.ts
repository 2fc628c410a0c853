import { spawn } from "node:child_process";
import { DEV_JWT_SECRET, freePort, GatewayTestClient, jsonLine, signDevToken, until } from "@agentcast/testkit";
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
    // The gateway logs this close after everything above, and the worker logs the run's end last (after its
    // terminal event). Once both lines are in (they come over pipes), every line of these actions is.
    await until(
      "the connection closed and run ended lines",
      () =>
        records().some((r) => r.msg === "connection closed" && r.connectionId === connectionId) &&
        records().some((r) => r.msg === "run ended" && r.runId === ack.runId),
    );

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
  it("one `command failed` line per failure, with the payload's taskId; unexpected failures at error level with err", async () => {
    const c = new GatewayTestClient({ url: stack.gateways[0]?.url ?? "", token: await signDevToken("mia") });
    const { connectionId } = await c.connect();
    expect(await c.command("subscribe", { taskId: "t_nope" })).toMatchObject({ ok: false, error: { code: "not_found" } });
    expect(await c.command("report_gap", { taskId: "t_bad", expectedSeq: 0, gotSeq: 1 })).toMatchObject({
      ok: false,
      error: { code: "invalid_payload" },
    });
    expect(await c.command("ping")).toMatchObject({ ok: true });
    await stack.redis.stop();
    try {
      expect(await c.command("subscribe", { taskId: "t_while_down" }, 15_000)).toMatchObject({ ok: false, error: { code: "unavailable" } });
    } finally {
      await stack.redis.restart();
    }
    // Marker: one more failure, whose line comes after every line of the failures above (one pipe, one order).
    expect(await c.command("subscribe", { taskId: "t_marker" }, 15_000)).toMatchObject({ ok: false, error: { code: "not_found" } });
    const failedLines = () => records().filter((r) => r.msg === "command failed" && r.connectionId === connectionId);
    await until("the marker's `command failed` line", () => failedLines().some((r) => r.taskId === "t_marker"));
    const failed = failedLines();
    expect(failed.map((r) => [r.level, r.event, r.code, r.taskId])).toEqual([
      [30, "subscribe", "not_found", "t_nope"],
      [30, "report_gap", "invalid_payload", "t_bad"],
      [50, "subscribe", "unavailable", "t_while_down"],
      [30, "subscribe", "not_found", "t_marker"],
    ]);
    expect(failed[0]?.err).toBeUndefined();
    expect(failed[2]).toMatchObject({ userId: "mia", err: { message: expect.any(String) } });
    c.disconnect();
  });

  it("LOG_LEVEL=warn writes warnings and errors only", async () => {
    const [port, metricsPort] = [await freePort(), await freePort()];
    const entry = new URL("../dist/main.js", import.meta.url).pathname;
    const child = spawn(process.execPath, [entry], {
      env: {
        ...process.env,
        PORT: String(port),
        METRICS_PORT: String(metricsPort),
        HOST: "127.0.0.1",
        REDIS_URL: stack.redis.url,
        JWT_SECRET: DEV_JWT_SECRET,
        GATEWAY_ID: "gw-quiet",
        LOG_LEVEL: "warn",
      },
      stdio: ["ignore", "pipe", "inherit"],
    });
    let out = "";
    child.stdout.on("data", (b: Buffer) => {
      out += b.toString();
    });
    const exited = new Promise((r) => child.once("exit", r));
    try {
      const url = `http://127.0.0.1:${port}`;
      const readyz = () =>
        fetch(`${url}/readyz`).then(
          (r) => r.status,
          () => 0,
        );
      await until("the gateway at LOG_LEVEL=warn to be ready", async () => (await readyz()) === 200).catch((err: Error) => {
        throw new Error(`${err.message}; output: ${out}`);
      });
      const token = await signDevToken("quinn");
      const created = await fetch(`${url}/v1/tasks`, {
        method: "POST",
        headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
        body: JSON.stringify({ text: "what is 1+1" }),
      }).then((r) => r.json() as Promise<{ taskId: string }>);
      const c = new GatewayTestClient({ url, token });
      await c.connect();
      expect(await c.command("subscribe", { taskId: "t_nope" })).toMatchObject({ ok: false }); // info: filtered
      expect(await c.command("report_gap", { taskId: created.taskId, expectedSeq: 2, gotSeq: 4 })).toMatchObject({ ok: true }); // warn
      c.disconnect();
      // The warn line of report_gap comes after anything logged for the connect and the subscribe before it.
      await until("the sequence gap's warn line", () => out.includes("client reported a sequence gap"));
    } finally {
      child.kill("SIGTERM");
      await exited;
    }
    const lines = out.split("\n").filter(Boolean).map(jsonLine);
    expect(
      lines.every((r) => r !== undefined && Number(r.level) >= 40),
      out,
    ).toBe(true);
    expect(lines.filter((r) => r?.msg === "client reported a sequence gap")).toHaveLength(1);
    expect(out).not.toContain("connection opened");
    // The same actions at LOG_LEVEL=trace (the stack above) do log below warn.
    expect(records().some((r) => r.msg === "connection opened" && r.level === 30)).toBe(true);
  });
});
