import { spawn } from "node:child_process";
import { connect } from "node:net";
import { fileURLToPath } from "node:url";
import { type EventEnvelope, PROTOCOL_VERSION, taskRoom } from "@agentcast/protocol";
import { broadcastFrame } from "@agentcast/store";
import { type GatewayProcess, GatewayTestClient, type LocalStack, signDevToken, startLocalStack } from "@agentcast/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const CLI = fileURLToPath(new URL("../bin/agentcast.mjs", import.meta.url));

type CliResult = { code: number | null; stdout: string; stderr: string };

function cli(args: string[]): Promise<CliResult> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args]);
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    child.on("exit", (code) => resolve({ code, stdout, stderr }));
  });
}

type Check = { name: string; status: string; detail: string; rule?: string };
const checksOf = (res: CliResult): Check[] => (JSON.parse(res.stdout) as { report: { checks: Check[] } }).report.checks;

/** SPUBLISH over RESP (no Redis client needed). */
function spublish(redisUrl: string, channel: string, message: string): Promise<string> {
  const { hostname, port } = new URL(redisUrl);
  const parts = ["SPUBLISH", channel, message];
  const wire = `*${parts.length}\r\n${parts.map((p) => `$${Buffer.byteLength(p)}\r\n${p}\r\n`).join("")}`;
  return new Promise((resolve, reject) => {
    const socket = connect({ host: hostname, port: Number(port) }, () => socket.write(wire));
    socket.once("data", (d) => {
      socket.end();
      resolve(d.toString());
    });
    socket.once("error", reject);
  });
}

/** Emits `event` to a task's room the way a worker does — here a faulty one that stamps another user's id. */
async function emitToRoom(redisUrl: string, e: EventEnvelope): Promise<void> {
  const frame = broadcastFrame(taskRoom(e.taskId), "event");
  const reply = await spublish(redisUrl, frame.channel, `${frame.prefix}${JSON.stringify(e)}${frame.suffix}`);
  expect(reply).toMatch(/^:[1-9]/); // at least one gateway received it
}

describe("agentcast probe: what counts as a passing run", () => {
  let stack: LocalStack;
  let gateway: GatewayProcess;
  beforeAll(async () => {
    stack = await startLocalStack({ gateways: 1, workers: 1 });
    gateway = stack.gateways[0] as GatewayProcess;
  });
  afterAll(() => stack?.stop());

  it("a run its user cancelled is exit 5 unless --expect-status cancelled", async () => {
    const token = await signDevToken("probe-cancel");
    await using canceller = new GatewayTestClient({ url: gateway.url, token });
    await canceller.connect();
    const cancelEachRun = async (count: number) => {
      for (let i = 0; i < count; i++) {
        const notice = await canceller.waitFor("task_created", undefined, { fromIndex: canceller.received.length });
        const { taskId } = notice.payload as { taskId: string };
        await canceller.command("subscribe", { taskId });
        await canceller.waitForEvent("tool_executing", taskId);
        expect(await canceller.command("cancel", { taskId })).toMatchObject({ ok: true });
      }
    };
    const message = "/slow /tools 10 what is 1+1";
    const [res] = await Promise.all([cli(["probe", gateway.url, "--token", token, "--message", message, "--json"]), cancelEachRun(1)]);
    expect(res.code).toBe(5);
    expect(JSON.parse(res.stdout)).toMatchObject({ outcome: "invalid_run", report: { ok: false } });
    expect(checksOf(res)).toContainEqual(expect.objectContaining({ name: "run ended succeeded", status: "fail" }));
    expect(checksOf(res).find((c) => c.name === "run ended succeeded")?.detail).toMatch(/^ended cancelled/);

    const [allowed] = await Promise.all([
      cli([
        "probe",
        gateway.url,
        "--token",
        token,
        "--message",
        message,
        "--json",
        "--expect-status",
        "cancelled",
        "--expect",
        "agent_started",
      ]),
      cancelEachRun(1),
    ]);
    expect(allowed.code).toBe(0);
    expect(checksOf(allowed)).toContainEqual({ name: "run ended cancelled", status: "pass", detail: "cancelled" });
  });

  it("every event of another user fails the probe (exit 5), even when the whole run is someone else's", async () => {
    // A gateway with no worker: the only events are the ones this test emits, as a faulty worker would.
    await using lonely = await startLocalStack({ gateways: 1, workers: 0 });
    const token = await signDevToken("probe-victim");
    await using watcher = new GatewayTestClient({ url: lonely.url, token });
    await watcher.connect();
    const probing = cli(["probe", lonely.url, "--token", token, "--json", "--expect", "agent_started,agent_completed", "--timeout", "15s"]);
    const notice = await watcher.waitFor("task_created", undefined, { timeoutMs: 10_000 });
    const { taskId, runId } = notice.payload as { taskId: string; runId: string };
    const base = { v: PROTOCOL_VERSION as typeof PROTOCOL_VERSION, taskId, runId, userId: "mallory", ts: Date.now() };
    await emitToRoom(lonely.redisUrl, { ...base, id: "f1", seq: 1, type: "agent_started", data: { input: "not yours" } });
    await emitToRoom(lonely.redisUrl, { ...base, id: "f2", seq: 2, type: "agent_completed", data: { status: "succeeded" } });
    const res = await probing;
    expect(res.code).toBe(5);
    const owner = checksOf(res).find((c) => c.rule === "identity");
    expect(owner).toMatchObject({ status: "fail", detail: expect.stringContaining("userId mallory is not the run's user probe-victim") });
  });
});
