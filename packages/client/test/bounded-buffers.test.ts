import { type EventEnvelope, validateRunEvents } from "@agentcast/protocol";
import { type GatewayProcess, GatewayTestClient, type LocalStack, signDevToken, startLocalStack } from "@agentcast/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type AgentcastClient, createClient } from "../src/index.js";

const terminal = (e: EventEnvelope) => e.type === "agent_completed" || e.type === "agent_error";

/** Every command the client sends (name and payload), in order. */
function recordOutgoing(client: AgentcastClient): [string, unknown][] {
  const sent: [string, unknown][] = [];
  client.socket.onAnyOutgoing((name: string, payload: unknown) => sent.push([name, payload]));
  return sent;
}

/** Resolves when the client sends `name` with `payload`; fails loudly after `ms`. */
function whenSent(client: AgentcastClient, name: string, payload: unknown, ms = 5_000): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the client did not send ${name} ${JSON.stringify(payload)} within ${ms} ms`)), ms);
    client.socket.onAnyOutgoing(function seen(n: string, p: unknown) {
      if (n !== name || JSON.stringify(p) !== JSON.stringify(payload)) return;
      clearTimeout(timer);
      client.socket.offAnyOutgoing(seen);
      resolve();
    });
  });
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

const expectWholeRun = (run: EventEnvelope[]) => {
  expect(run.map((e) => e.seq)).toEqual(run.map((_, i) => i + 1));
  expect(validateRunEvents(run)).toEqual([]);
  expect(run.at(-1)?.type).toBe("agent_completed");
};

describe("the SDK's buffers are bounded, and what they drop is re-read from history (real gateway)", () => {
  let stack: LocalStack;
  let gateway: GatewayProcess;
  beforeAll(async () => {
    stack = await startLocalStack({ gateways: 1, workers: 1 });
    gateway = stack.gateways[0] as GatewayProcess;
  });
  afterAll(() => stack?.stop());

  it("events that beat send()'s answer are kept up to maxEarlyEvents; the rest is re-read from the last kept seq", async () => {
    const client = createClient({
      url: gateway.url,
      token: await signDevToken("early-user"),
      transports: ["websocket"],
      maxEarlyEvents: 3,
    });
    const sent = recordOutgoing(client);
    let runEnded: () => void = () => {};
    const ended = new Promise<void>((resolve) => {
      runEnded = resolve;
    });
    client.socket.on("event", (e) => {
      if (terminal(e)) runEnded(); // registered after the client's own listener: it has routed `e` already
    });
    // Hold send()'s answer back until the whole run has reached the client: every event arrives "early".
    const emitWithAck = client.socket.emitWithAck.bind(client.socket);
    let earlyAtAnswer: ReturnType<AgentcastClient["buffered"]> | undefined;
    client.socket.emitWithAck = (async (name: string, ...args: unknown[]) => {
      const ack = await emitWithAck(name as "ping", ...(args as [undefined]));
      if (name === "user_message") {
        await ended;
        earlyAtAnswer = client.buffered();
      }
      return ack;
    }) as typeof client.socket.emitWithAck;

    const { taskId } = await client.send("/tools 4 what is 7*6");
    const run = await follow(client, taskId);

    expectWholeRun(run);
    expect(run.length).toBeGreaterThan(10);
    expect(earlyAtAnswer).toEqual({ earlyTasks: 1, earlyEvents: 3, heldEvents: 0 });
    expect(sent).toContainEqual(["subscribe", { taskId, sinceSeq: 3, sinceId: expect.any(String) }]); // re-read after the 3 kept
    expect(sent.map(([name]) => name)).not.toContain("report_gap"); // a known drop, not a gap
    expect(client.buffered()).toEqual({ earlyTasks: 0, earlyEvents: 0, heldEvents: 0 });
    client.close();
  });

  it("events for a task nobody follows are not kept: the client unsubscribes, and a later subscribe replays it from seq 1", async () => {
    const token = await signDevToken("orphan-user");
    await using other = new GatewayTestClient({ url: gateway.url, token });
    await other.connect();
    const started = await other.command("user_message", { text: "/tools 3 what is 1+2" });
    if (!started.ok) throw new Error(JSON.stringify(started));
    const firstRun = await other.collectRun(started.taskId);
    const taskId = started.taskId;

    const client = createClient({ url: gateway.url, token, transports: ["websocket"] });
    const sent = recordOutgoing(client);
    const arrived: number[] = [];
    client.socket.on("event", (e) => {
      if (e.taskId === taskId) arrived.push(e.seq);
    });
    // The socket is subscribed, but no handle or send follows the task (as after a send whose every answer was lost).
    const unsubscribed = whenSent(client, "unsubscribe", { taskId });
    await client.command("subscribe", { taskId, sinceSeq: 0 });
    await unsubscribed;
    await client.command("ping", {}); // marker: everything sent before the unsubscribe took effect has arrived

    expect(arrived.length).toBeGreaterThan(0);
    expect(client.buffered()).toEqual({ earlyTasks: 0, earlyEvents: 0, heldEvents: 0 });
    const again = await follow(client, taskId);
    expect(again).toEqual(firstRun);
    expectWholeRun(again);
    expect(sent.map(([name]) => name)).not.toContain("report_gap");
    client.close();
  });

  it("out-of-order events beyond maxHeldEventsPerTask are dropped and re-read: the run arrives whole, once, in order", async () => {
    const client = createClient({
      url: gateway.url,
      token: await signDevToken("held-user"),
      transports: ["websocket"],
      maxHeldEventsPerTask: 3,
    });
    const sent = recordOutgoing(client);
    // Stand between the socket and the client: keep the run until it ended, then hand it over without seq 4.
    const [route] = client.socket.listeners("event");
    if (!route) throw new Error("the client registered no event listener");
    client.socket.off("event", route);
    const kept: EventEnvelope[] = [];
    let passThrough = false;
    let runEnded: () => void = () => {};
    const ended = new Promise<void>((resolve) => {
      runEnded = resolve;
    });
    client.socket.on("event", (e) => {
      if (passThrough) return route(e);
      kept.push(e);
      if (terminal(e)) runEnded();
    });

    const { taskId } = await client.send("/tools 6 what is 7*6");
    await ended;
    passThrough = true;
    let peakHeld = 0;
    for (const e of kept) {
      if (e.seq === 4) continue; // lost on the way
      route(e);
      peakHeld = Math.max(peakHeld, client.buffered().heldEvents);
    }
    const run = await follow(client, taskId);

    expectWholeRun(run);
    expect(run.length).toBe(kept.length);
    expect(run[3]).toEqual(kept.find((e) => e.seq === 4)); // the lost event, read again from history
    expect(peakHeld).toBe(3);
    expect(sent.filter(([name]) => name === "report_gap")).toEqual([["report_gap", { taskId, expectedSeq: 4, gotSeq: 5 }]]);
    expect(sent).toContainEqual(["subscribe", { taskId, sinceSeq: 3, sinceId: expect.any(String) }]);
    expect(client.buffered()).toEqual({ earlyTasks: 0, earlyEvents: 0, heldEvents: 0 });
    client.close();
  });
});
