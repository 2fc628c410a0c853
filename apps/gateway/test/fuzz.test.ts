import { COMMAND_NAMES, EVENT_TYPES, isErrorCode } from "@agentcast/protocol";
import { GatewayTestClient, signDevToken } from "@agentcast/testkit";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { type Stack, startStack } from "./fixture.js";

/** Deep nesting, huge strings, prototype-pollution keys, binary, and valid shapes with wrong types. */
const hostileValue = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: "small" },
    { arbitrary: fc.string(), weight: 10 },
    // Huge strings by repetition: generating them character by character is what would be slow.
    {
      arbitrary: fc.tuple(fc.string({ minLength: 1, maxLength: 3 }), fc.integer({ min: 7_000, max: 40_000 })).map(([s, n]) => s.repeat(n)),
      weight: 1,
    },
    { arbitrary: fc.integer(), weight: 4 },
    { arbitrary: fc.double(), weight: 2 },
    { arbitrary: fc.boolean(), weight: 2 },
    { arbitrary: fc.constant(null), weight: 2 },
    { arbitrary: fc.uint8Array({ maxLength: 64 }).map((a) => Buffer.from(a)), weight: 2 },
    { arbitrary: fc.array(tie("value"), { maxLength: 4 }), weight: 3 },
    {
      arbitrary: fc.dictionary(
        fc.oneof(fc.string(), fc.constantFrom("__proto__", "constructor", "prototype", "taskId", "text", "sinceSeq")),
        tie("value"),
        { maxKeys: 4 },
      ),
      weight: 4,
    },
  ),
})).value;
const nested = fc.integer({ min: 50, max: 1_000 }).map((depth) => {
  let v: unknown = { text: "deep" };
  for (let i = 0; i < depth; i++) v = { nested: v };
  return v;
});
const shapedPayload = fc.record(
  {
    text: hostileValue,
    taskId: hostileValue,
    sinceSeq: hostileValue,
    questionId: hostileValue,
    response: hostileValue,
    token: hostileValue,
  },
  { requiredKeys: [] },
);
const eventName = fc.oneof(
  fc.constantFrom(...COMMAND_NAMES),
  fc.constantFrom(...EVENT_TYPES, "event", "error", "connect", "disconnecting"),
  fc.string({ maxLength: 30 }),
);
const frame = fc.tuple(
  eventName,
  fc.oneof(
    { arbitrary: hostileValue, weight: 10 },
    { arbitrary: shapedPayload, weight: 10 },
    { arbitrary: nested, weight: 1 },
    { arbitrary: fc.constant(undefined), weight: 2 },
  ),
);

const RESERVED_BY_CLIENT = new Set(["connect", "connect_error", "disconnect", "disconnecting", "newListener", "removeListener"]);

/** A raw Socket.IO connection over a plain websocket, authenticated, that sends frames and pings. */
class RawConnection {
  private readonly ws: WebSocket;
  private readonly waiters = new Map<number, () => void>();
  private nextAck = 0;
  readonly closed: Promise<void>;
  readonly ready: Promise<void>;

  constructor(url: string, token: string) {
    this.ws = new WebSocket(url);
    this.closed = new Promise((resolve) => {
      this.ws.once("close", () => resolve());
      this.ws.once("error", () => resolve());
    });
    this.ready = new Promise((resolve, reject) => {
      this.ws.on("message", (data) => {
        const msg = data.toString();
        if (msg === "2") this.ws.send("3");
        else if (msg.startsWith("40")) resolve();
        else if (msg.startsWith("44")) reject(new Error(`connect refused: ${msg}`));
        else if (msg.startsWith("43")) this.waiters.get(Number(/^43(\d+)/.exec(msg)?.[1]))?.();
      });
      this.ws.once("open", () => this.ws.send(`40${JSON.stringify({ token })}`));
      void this.closed.then(() => reject(new Error("closed before CONNECT was answered")));
    });
  }

  /** Sends `frame`, then a ping: "read" once the ping is acked (the frame was read), "closed" if the gateway closed instead. */
  async probe(frame: string | Buffer): Promise<"read" | "closed"> {
    const id = ++this.nextAck;
    const acked = new Promise<"read">((resolve) => this.waiters.set(id, () => resolve("read")));
    this.ws.send(frame);
    this.ws.send(`42${id}["ping"]`);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`neither an ack nor a close within 10 s after ${JSON.stringify(String(frame))}`)), 10_000);
    });
    try {
      return await Promise.race([acked, this.closed.then(() => "closed" as const), timeout]);
    } finally {
      clearTimeout(timer);
      this.waiters.delete(id);
    }
  }

  close(): void {
    this.ws.terminate();
  }
}

/**
 * Sends raw frames one at a time, each followed by a `ping` with its own ack id: an acked ping proves the
 * gateway read the frame and still serves the connection; a connection closed before the ack was closed for
 * that frame (malformed Engine.IO / Socket.IO framing) — the next frame goes on a new connection and user.
 */
async function sendRawFrames(
  url: string,
  frames: (string | Buffer)[],
): Promise<{ answered: number; closedOn: number; connections: number }> {
  let answered = 0;
  let closedOn = 0;
  let connections = 0;
  let conn: RawConnection | undefined;
  for (const frame of frames) {
    if (!conn) {
      connections++;
      conn = new RawConnection(url, await signDevToken(`fuzz-raw-${connections}`)); // one user per connection
      await conn.ready;
    }
    if ((await conn.probe(frame)) === "read") answered++;
    else {
      closedOn++;
      conn = undefined;
    }
  }
  conn?.close();
  return { answered, closedOn, connections };
}

describe("fuzzing the gateway", () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({
      gateways: 1,
      workers: 1,
      gatewayEnv: {
        RATE_LIMIT_COMMANDS_PER_SEC: "1000000",
        RATE_LIMIT_COMMANDS_BURST: "1000000",
        RATE_LIMIT_USER_COMMANDS_PER_MIN: "100000000",
        CONNECT_BURST_PER_IP: "100000",
      },
    });
  });
  afterAll(() => stack?.stop());

  it("100k random and mutated command frames: every one answered with a coded error or ok, no crash, other users unaffected", {
    timeout: 300_000,
  }, async () => {
    const bystander = await stack.client("fuzz-bystander");
    const bystanderRun = await bystander.command("user_message", { text: "/slow /tools 10 what is 7+7" });
    if (!bystanderRun.ok) throw new Error("bystander");
    const fuzzer = await stack.client("fuzz-attacker");
    // socket.io-client refuses to emit its reserved names at all: those frames are not sent, nor counted.
    const frames = fc.sample(frame, { numRuns: 100_000, seed: 20261122 }).filter(([name]) => !RESERVED_BY_CLIENT.has(name));
    expect(frames.length).toBeGreaterThan(90_000);
    let answered = 0;
    const badAcks: unknown[] = [];
    const BATCH = 500;
    for (let i = 0; i < frames.length; i += BATCH) {
      const acks = await Promise.all(
        frames.slice(i, i + BATCH).map(async ([name, payload]) => {
          try {
            return (await fuzzer.socket.timeout(30_000).emitWithAck(name, payload)) as { ok: boolean; error?: { code: string } };
          } catch (err) {
            return { timeout: String(err), name };
          }
        }),
      );
      for (const ack of acks) {
        const a = ack as { ok?: boolean; error?: { code: string } };
        if (a.ok === true || (a.ok === false && isErrorCode(a.error?.code))) answered++;
        else badAcks.push(ack);
      }
    }
    expect(badAcks.slice(0, 5)).toEqual([]);
    expect(answered).toBe(frames.length);
    expect(fuzzer.socket.connected).toBe(true);
    expect(await fuzzer.command("ping")).toMatchObject({ ok: true });
    expect((await bystander.collectRun(bystanderRun.taskId)).at(-1)).toMatchObject({
      type: "agent_completed",
      data: { status: "succeeded" },
    });
    expect(stack.gateways[0]?.child.process.exitCode).toBeNull();
    expect(stack.gateways[0]?.child.output.filter((l) => /unhandled|uncaught|FATAL/i.test(l))).toEqual([]);
  });

  it("raw malformed Engine.IO / Socket.IO packets over a plain websocket never crash the gateway", async () => {
    const url = `${stack.gateways[0]?.url.replace("http", "ws")}/socket.io/?EIO=4&transport=websocket`;
    const garbage = fc.sample(
      fc.oneof(
        fc.string({ maxLength: 200 }),
        fc.string({ maxLength: 50 }).map((s) => `4${s}`), // message packets with junk
        fc.string({ maxLength: 50 }).map((s) => `42${s}`), // events with broken JSON
        fc.json().map((j) => `42${j}`),
        fc.json().map((j) => `40${j}`), // connect with random auth
        fc.constantFrom("2", "3", "5", "6", "1", "451-", '451-["x",{"_placeholder":true,"num":9}]', "49", "4", ""),
        fc.uint8Array({ maxLength: 100 }).map((a) => Buffer.from(a)),
      ),
      { numRuns: 5_000, seed: 7 },
    );
    const { answered, closedOn, connections } = await sendRawFrames(url, garbage);
    // Every frame was read by the gateway: answered (the ping sent after it was acked) or the reason it
    // closed that connection (malformed Engine.IO / Socket.IO framing).
    expect(answered + closedOn).toBe(garbage.length);
    // Both outcomes were exercised many times (seeded: 5,000 frames read ~9 % answered, the rest closing).
    expect(answered).toBeGreaterThan(200);
    expect(closedOn).toBeGreaterThan(200);
    expect(connections - closedOn).toBeLessThanOrEqual(1); // a new connection only after a close
    const probe = new GatewayTestClient({ url: stack.gateways[0]?.url ?? "", token: await signDevToken("fuzz-probe") });
    expect(await probe.connect()).toMatchObject({ userId: "fuzz-probe" });
    expect(await probe.command("ping")).toMatchObject({ ok: true });
    probe.disconnect();
    expect((await fetch(`${stack.gateways[0]?.url}/healthz`)).status).toBe(200);
    expect(stack.gateways[0]?.child.process.exitCode).toBeNull();
  });
});
