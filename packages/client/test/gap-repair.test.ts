import { type EventEnvelope, validateRunEvents } from "@agentcast/protocol";
import { type GatewayProcess, GatewayTestClient, type LocalStack, signDevToken, startLocalStack } from "@agentcast/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type AgentcastClient, createClient } from "../src/index.js";

const terminal = (e: EventEnvelope) => e.type === "agent_completed" || e.type === "agent_error";

/** The gateway's `agentcast_silent_failures_total{kind="sequence_gap"}` (summed over labels). */
async function sequenceGaps(metricsPort: number): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
  let total = 0;
  for (const line of text.split("\n"))
    if (line.startsWith("agentcast_silent_failures_total{") && line.includes('kind="sequence_gap"'))
      total += Number(line.split(" ").at(-1));
  return total;
}

/** Every command the client sends (name and payload), in order. */
function recordOutgoing(client: AgentcastClient): [string, unknown][] {
  const sent: [string, unknown][] = [];
  client.socket.onAnyOutgoing((name: string, payload: unknown) => sent.push([name, payload]));
  return sent;
}

/** Follows `taskId` on a new handle until the terminal event; returns what the handle delivered. */
async function follow(client: AgentcastClient, taskId: string): Promise<EventEnvelope[]> {
  const run: EventEnvelope[] = [];
  for await (const e of client.subscribe(taskId)) {
    run.push(e);
    if (terminal(e)) break;
  }
  return run;
}

describe("gap handling against a real gateway", () => {
  let stack: LocalStack;
  let gateway: GatewayProcess;
  beforeAll(async () => {
    stack = await startLocalStack({ gateways: 1, workers: 1 });
    gateway = stack.gateways[0] as GatewayProcess;
  });
  afterAll(() => stack?.stop());

  it("a live event lost on the way: the client reports the gap, re-subscribes from its lastSeq and ends with the whole run", async () => {
    const client = createClient({ url: gateway.url, token: await signDevToken("gap-user"), transports: ["websocket"] });
    const sent = recordOutgoing(client);
    // Lose live seq 4 on the client side, once — as a lossy proxy or a dropped frame would.
    const [route] = client.socket.listeners("event");
    if (!route) throw new Error("the client registered no event listener");
    client.socket.off("event", route);
    let dropped: EventEnvelope | undefined;
    client.socket.on("event", (e) => {
      if (e.seq === 4 && !dropped) dropped = e;
      else route(e);
    });
    const gapsBefore = await sequenceGaps(gateway.metricsPort);

    const { taskId } = await client.send("/slow /tools 4 what is 7*6");
    const run = await follow(client, taskId);

    expect(dropped).toBeDefined();
    expect(run.map((e) => e.seq)).toEqual(run.map((_, i) => i + 1));
    expect(validateRunEvents(run)).toEqual([]);
    expect(run.at(-1)?.type).toBe("agent_completed");
    expect(run[3]).toEqual(dropped); // the copy replayed from history is the event that was lost
    const commands = sent.map(([name]) => name);
    expect(sent).toContainEqual(["report_gap", { taskId, expectedSeq: 4, gotSeq: 5 }]);
    expect(sent).toContainEqual(["subscribe", { taskId, sinceSeq: 3, sinceId: expect.any(String) }]);
    expect(commands.indexOf("report_gap")).toBeLessThan(commands.lastIndexOf("subscribe"));
    expect(await sequenceGaps(gateway.metricsPort)).toBe(gapsBefore + 1);
    client.close();
  });

  it("send() on a task this client never followed starts at the task's lastSeq: no false gap, no replay", async () => {
    const token = await signDevToken("follow-up-user");
    await using other = new GatewayTestClient({ url: gateway.url, token });
    await other.connect();
    const first = await other.command("user_message", { text: "/tools 3 what is 1+2" });
    if (!first.ok) throw new Error(JSON.stringify(first));
    const firstRun = await other.collectRun(first.taskId);
    const lastSeq = firstRun.at(-1)?.seq ?? 0;
    expect(lastSeq).toBeGreaterThan(5);

    const client = createClient({ url: gateway.url, token, transports: ["websocket"] });
    const sent = recordOutgoing(client);
    const gapsBefore = await sequenceGaps(gateway.metricsPort);
    const { runId } = await client.send("what is 2+2", { taskId: first.taskId });
    const run = await follow(client, first.taskId);

    expect(run[0]).toMatchObject({ type: "agent_started", runId, seq: lastSeq + 1 });
    expect(run.map((e) => e.seq)).toEqual(run.map((_, i) => lastSeq + 1 + i));
    expect(validateRunEvents(run)).toEqual([]);
    const commands = sent.map(([name]) => name);
    expect(commands[0]).toBe("user_message");
    expect(commands).not.toContain("report_gap");
    expect(commands).not.toContain("subscribe"); // nothing re-read from history
    expect(await sequenceGaps(gateway.metricsPort)).toBe(gapsBefore);
    client.close();
  });
});
