import { type EventEnvelope, validateRunEvents } from "@agentcast/protocol";
import {
  type GatewayProcess,
  type RedisServerHandle,
  signDevToken,
  startGatewayProcess,
  startRedisServer,
  startWorkerProcess,
  type WorkerProcess,
} from "@agentcast/testkit";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { AgentcastError, type ConnectionState, createClient } from "../src/index.js";

const terminal = (e: EventEnvelope) => e.type === "agent_completed" || e.type === "agent_error";

describe("@agentcast/client against a real gateway", () => {
  let redis: RedisServerHandle;
  let gateway: GatewayProcess;
  let worker: WorkerProcess;
  beforeAll(async () => {
    redis = await startRedisServer();
    gateway = await startGatewayProcess({ redisUrl: redis.url });
    worker = await startWorkerProcess({ redisUrl: redis.url });
  });
  afterAll(async () => {
    await worker?.stop();
    await gateway?.stop();
    await redis?.[Symbol.asyncDispose]();
  });

  it("send → handle → iterate a whole run; respond to a question; state goes connecting → connected", async () => {
    const states: ConnectionState[] = [];
    const client = createClient({ url: gateway.url, getToken: () => signDevToken("sdk-user"), transports: ["websocket"] });
    client.on("state", (s) => states.push(s));
    const { taskId } = await client.send("/ask what is 6*7");
    const handle = client.subscribe(taskId);
    handle.on("agent_question", (e) => {
      if (e.type === "agent_question") void client.respond(taskId, e.data.questionId, "42 it is");
    });
    const run: EventEnvelope[] = [];
    for await (const e of handle) {
      run.push(e);
      if (terminal(e)) break;
    }
    expect(validateRunEvents(run)).toEqual([]);
    expect(run.map((e) => e.seq)).toEqual(run.map((_, i) => i + 1));
    expect(run.at(-1)).toMatchObject({ type: "agent_completed", data: { result: { userResponse: "42 it is" } } });
    expect(states[0]).toBe("connected");
    await expect(client.send("", {})).rejects.toMatchObject({ code: "invalid_payload", retryable: false });
    await expect(client.cancel(taskId)).rejects.toBeInstanceOf(AgentcastError);
    client.close();
    expect(client.state).toBe("disconnected");
  });

  it("resumes after its socket is killed mid-run: the handle holds every seq once, in order", async () => {
    const client = createClient({
      url: gateway.url,
      token: await signDevToken("sdk-kill"),
      transports: ["websocket"],
      reconnectDelayMs: 100,
    });
    const states: ConnectionState[] = [];
    client.on("state", (s) => states.push(s));
    // /slow: 200 ms per step, so the run is far from done when the socket dies.
    const { taskId } = await client.send("/slow /tools 6 what is 2*3");
    const handle = client.subscribe(taskId);
    const seen: EventEnvelope[] = [];
    let reconnected = false;
    client.on("state", (s) => {
      if (s === "connected") reconnected = true;
    });
    const afterReconnect: number[] = [];
    const done = new Promise<EventEnvelope>((resolve) =>
      handle.on("*", (e) => {
        seen.push(e);
        if (reconnected) afterReconnect.push(e.seq);
        if (terminal(e)) resolve(e);
      }),
    );
    await handle.next((e) => e.type === "tool_completed");
    const seqAtKill = handle.lastSeq;
    client.socket.io.engine.close(); // the connection dies under the client
    expect(seen.some(terminal)).toBe(false); // the run was still going
    const last = await done;
    expect(seen.map((e) => e.seq)).toEqual(Array.from({ length: last.seq }, (_, i) => i + 1));
    expect(validateRunEvents(seen)).toEqual([]);
    expect(last.type).toBe("agent_completed");
    // Events of the run arrived after the new connection (replayed and live), not all before the kill.
    expect(afterReconnect.length).toBeGreaterThan(0);
    expect(Math.min(...afterReconnect)).toBeGreaterThan(seqAtKill);
    expect(last.seq - seqAtKill).toBeGreaterThanOrEqual(5);
    expect(states).toEqual(expect.arrayContaining(["reconnecting", "connected"]));
    expect(states.indexOf("reconnecting")).toBeLessThan(states.lastIndexOf("connected"));
    client.close();
  });

  it("works over long-polling only (the fallback transport), including a resume", async () => {
    const client = createClient({
      url: gateway.url,
      token: await signDevToken("sdk-poll"),
      transports: ["polling"],
      reconnectDelayMs: 100,
    });
    const { taskId } = await client.send("/tools 6 what is 5+5");
    const handle = client.subscribe(taskId);
    const seen: number[] = [];
    const done = new Promise<void>((resolve) =>
      handle.on("*", (e) => {
        seen.push(e.seq);
        if (terminal(e)) resolve();
      }),
    );
    await handle.next((e) => e.seq >= 3);
    expect(client.socket.io.engine.transport.name).toBe("polling");
    client.socket.io.engine.close();
    await done;
    expect(seen).toEqual(seen.map((_, i) => i + 1));
    client.close();
  });

  it("refreshes its token through getToken after token_expired", async () => {
    let calls = 0;
    const client = createClient({
      url: gateway.url,
      transports: ["websocket"],
      reconnectDelayMs: 50,
      getToken: async () => (++calls === 1 ? signDevToken("sdk-exp", { expiresInSeconds: -5 }) : signDevToken("sdk-exp")),
    });
    const { taskId } = await client.send("what is 1+2");
    expect(calls).toBe(2);
    const handle = client.subscribe(taskId);
    await handle.next(terminal);
    client.close();
  });

  it("a task subscribed before the first connection completes is followed once connected", async () => {
    const writer = createClient({ url: gateway.url, token: await signDevToken("sdk-early"), transports: ["websocket"] });
    const { taskId } = await writer.send("what is 4*4");
    await writer.subscribe(taskId).next(terminal);
    writer.close();
    const reader = createClient({ url: gateway.url, token: await signDevToken("sdk-early"), transports: ["websocket"] });
    expect(reader.state).toBe("connecting");
    const handle = reader.subscribe(taskId);
    const last = await handle.next(terminal);
    expect(last.type).toBe("agent_completed");
    expect(handle.lastSeq).toBe(last.seq);
    reader.close();
  });

  it("swaps in a fresh token with auth_refresh before the old one expires — no reconnect", async () => {
    const tokens: string[] = [];
    const client = createClient({
      url: gateway.url,
      transports: ["websocket"],
      getToken: async () => {
        const token = await signDevToken("sdk-refresh", { expiresInSeconds: 2 });
        tokens.push(token);
        return token;
      },
    });
    const states: ConnectionState[] = [];
    client.on("state", (s) => states.push(s));
    await client.send("what is 1+1");
    // Two refreshes (the connect asked for the first token): the second comes shortly before the first
    // refreshed token expires, so well after the connect's token did.
    await vi.waitFor(() => expect(tokens.length).toBeGreaterThanOrEqual(3), { timeout: 10_000, interval: 50 });
    const expMs = (token: string) =>
      (JSON.parse(Buffer.from(token.split(".")[1] ?? "", "base64url").toString()) as { exp: number }).exp * 1000;
    expect(Date.now()).toBeGreaterThan(expMs(tokens[0] as string));
    // A command answered now was handled after the first token's exp: a disconnect at exp would have come first.
    await client.send("what is 2+2");
    expect(client.state).toBe("connected");
    expect(states).toEqual(["connected"]);
    client.close();
  });

  it("reports an invalid token as a fatal error and stops", async () => {
    const client = createClient({ url: gateway.url, token: "garbage", transports: ["websocket"] });
    const error = await new Promise<AgentcastError>((resolve) => client.on("error", resolve));
    expect(error).toMatchObject({ code: "token_invalid", retryable: false });
    expect(client.state).toBe("disconnected");
  });
});
