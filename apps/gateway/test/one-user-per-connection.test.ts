// Issue 13 item 7: one Engine.IO connection carries one socket, so one user. Two CONNECT packets sent
// back to back (raw frames over ws; socket.io-client never does this) used to give two authenticated
// sessions on one websocket; the second is now refused with connect_error limit_exceeded.
import { signDevToken } from "@agentcast/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Stack, startStack } from "./fixture.js";
import { scrape, value } from "./metrics.js";
import { isConnectAnswer, RawEngineIo } from "./raw-socket-io.js";

/** The JSON after a packet's type digits ("44{…}" connect_error, "42[…]" event). */
const parse = (packet: string, prefix: string) => JSON.parse(packet.slice(prefix.length)) as Record<string, unknown>;
const established = (p: string) => p.startsWith('42["connection_established"');

describe("one user per Engine.IO connection", () => {
  let stack: Stack;
  const raws: RawEngineIo[] = [];
  beforeAll(async () => {
    stack = await startStack({ gateways: 1, workers: 0 });
  });
  afterAll(async () => {
    for (const raw of raws) raw.close();
    await stack?.stop();
  });
  const open = async () => {
    const raw = await RawEngineIo.open(stack.gateways[0]?.url ?? "");
    raws.push(raw);
    return raw;
  };
  const refusedHere = async () =>
    value(await scrape(stack.gateways[0]?.metricsPort ?? 0), "agentcast_gateway_limits_total", { limit: "sockets_per_connection" });

  /** Two CONNECTs back to back; returns what the connection then carries, checked up to a marker command's ack. */
  const connectTwice = async (first: string, second: string) => {
    const raw = await open();
    const connects = [first, second].map(async (user) => `40${JSON.stringify({ token: await signDevToken(user) })}`);
    await raw.sendTogether(await Promise.all(connects));
    await raw.next(isConnectAnswer);
    await raw.next(isConnectAnswer);
    const welcome = parse(await raw.next(established), "42") as unknown as [string, { userId: string }];
    // Marker: the ack of a command sent now comes after anything the two CONNECTs could still produce.
    await raw.send('421["ping"]');
    expect(await raw.next((p) => p.startsWith("431"))).toMatch(/^431\[\{"ok":true/);
    return {
      answers: raw.log
        .filter(isConnectAnswer)
        .map((p) => (p.startsWith("40") ? "connected" : (parse(p, "44").data as { code: string }).code)),
      users: raw.log.filter(established).length,
      userId: welcome[1].userId,
    };
  };

  it("two users' CONNECTs on one websocket: the first connects, the second is refused with limit_exceeded", async () => {
    const before = await refusedHere();
    const carried = await connectTwice("alice-1", "mallory-1");
    expect(carried.answers.sort()).toEqual(["connected", "limit_exceeded"]);
    expect({ users: carried.users, userId: carried.userId }).toEqual({ users: 1, userId: "alice-1" });
    expect(await refusedHere()).toBe(before + 1);
  });

  it("the same user's CONNECT twice back to back: one socket", async () => {
    const carried = await connectTwice("alice-2", "alice-2");
    expect(carried.answers.sort()).toEqual(["connected", "limit_exceeded"]);
    expect(carried.users).toBe(1);
  });

  it("a refused CONNECT leaves the connection free: a CONNECT after it is admitted", async () => {
    const raw = await open();
    await raw.connect("not-a-token");
    expect(parse(await raw.next(isConnectAnswer), "44")).toMatchObject({ message: "unauthorized", data: { code: "token_invalid" } });
    await raw.connect(await signDevToken("alice-3"));
    expect(await raw.next(isConnectAnswer)).toMatch(/^40\{"sid":/);
    expect(parse(await raw.next(established), "42")).toMatchObject(["connection_established", { userId: "alice-3" }]);
  });

  it("a CONNECT on a connection whose socket is connected closes the connection (Socket.IO's own rule)", async () => {
    const raw = await open();
    await raw.connect(await signDevToken("alice-4"));
    await raw.next(established);
    await raw.connect(await signDevToken("mallory-4"));
    await new Promise<void>((resolve) => (raw.ws.readyState === raw.ws.CLOSED ? resolve() : raw.ws.once("close", () => resolve())));
    expect(raw.log.filter(isConnectAnswer)).toHaveLength(1);
    expect(raw.log.filter(established)).toHaveLength(1);
  });
});
