import { type EventEnvelope, validateRunEvents } from "@agentcast/protocol";
import { type LocalStack, signDevToken, startLocalStack } from "@agentcast/testkit";
import { afterEach, describe, expect, it } from "vitest";
import { type ConnectionState, createClient } from "../src/index.js";

const terminal = (e: EventEnvelope) => e.type === "agent_completed" || e.type === "agent_error";

/** Follows one run through the balancer while `fault` happens mid-run; returns what the handle delivered. */
async function runThrough(stack: LocalStack, user: string, fault: () => Promise<void>) {
  const client = createClient({
    url: stack.url,
    getToken: () => signDevToken(user),
    transports: ["websocket"],
    reconnectDelayMs: 100,
    reconnectDelayMaxMs: 1_000,
  });
  const states: ConnectionState[] = [];
  client.on("state", (s) => states.push(s));
  const { taskId } = await client.send("/slow /tools 8 what is 9*9");
  const handle = client.subscribe(taskId);
  const seen: EventEnvelope[] = [];
  const done = new Promise<void>((resolve) =>
    handle.on("*", (e) => {
      seen.push(e);
      if (terminal(e)) resolve();
    }),
  );
  await handle.next((e) => e.type === "tool_completed");
  await fault();
  await done;
  client.close();
  return { seen, states };
}

const expectComplete = (seen: EventEnvelope[]) => {
  expect(seen.map((e) => e.seq)).toEqual(seen.map((_, i) => i + 1));
  expect(validateRunEvents(seen)).toEqual([]);
  expect(seen.at(-1)?.type).toBe("agent_completed");
};

describe("the SDK resumes through real faults (2 gateways behind a balancer)", () => {
  let stack: LocalStack | undefined;
  afterEach(async () => {
    await stack?.stop();
    stack = undefined;
  });

  it("its gateway is SIGKILLed mid-run", async () => {
    stack = await startLocalStack({ gateways: 2, workers: 1, balancerPort: 0 });
    const [g1, g2] = stack.gateways as [(typeof stack.gateways)[0], (typeof stack.gateways)[0]];
    stack.balancer?.setBackends([g1.port]); // the client lands on gateway 1
    const s = stack;
    const { seen, states } = await runThrough(s, "r-kill", async () => {
      s.balancer?.setBackends([g2.port]);
      await g1.kill();
    });
    expectComplete(seen);
    expect(states).toEqual(expect.arrayContaining(["reconnecting", "connected"]));
  });

  it("its gateway drains (SIGTERM)", async () => {
    stack = await startLocalStack({ gateways: 2, workers: 1, balancerPort: 0, gatewayEnv: { DRAIN_WINDOW_MS: "500" } });
    const [g1, g2] = stack.gateways as [(typeof stack.gateways)[0], (typeof stack.gateways)[0]];
    stack.balancer?.setBackends([g1.port]);
    const s = stack;
    const { seen, states } = await runThrough(s, "r-drain", async () => {
      s.balancer?.setBackends([g2.port]);
      await g1.stop("SIGTERM");
      expect(await g1.child.exited).toEqual({ code: 0, signal: null });
    });
    expectComplete(seen);
    expect(states).toEqual(expect.arrayContaining(["reconnecting", "connected"]));
  });

  it("the network drops for 2 s (TCP connections killed, new ones refused)", async () => {
    stack = await startLocalStack({ gateways: 2, workers: 1, balancerPort: 0 });
    const s = stack;
    const { seen, states } = await runThrough(s, "r-drop", async () => {
      s.balancer?.block(2_000);
      s.balancer?.cut();
    });
    expectComplete(seen);
    expect(states).toEqual(expect.arrayContaining(["reconnecting", "connected"]));
  });
});
