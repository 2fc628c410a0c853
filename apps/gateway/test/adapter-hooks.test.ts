// Pins what src/socketio/internals.ts reaches into (Socket.IO / Engine.IO / ws internals) against the
// installed versions: the adapter hook that hands task events to the subscriptions
// (src/adapter/task-event-adapter.ts), the encode-once write path (src/subscriptions/outbound-event.ts),
// and the connection-level helpers. Real Redis, real servers on port 0, real socket.io-client.
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import type { EventEnvelope } from "@agentcast/protocol";
import { createKeys, EventPublisher, roomChannel, TaskStore } from "@agentcast/store";
import { type RedisServerHandle, startRedisServer } from "@agentcast/testkit";
import { Redis } from "ioredis";
import { Server, type Socket } from "socket.io";
import { type Socket as ClientSocket, io as connect } from "socket.io-client";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { createTaskEventAdapter } from "../src/adapter/task-event-adapter.js";
import { closeWithin, isWritable, socketsSharingConnection, unsentBytes } from "../src/socketio/internals.js";
import { EncodedEvent, type OutboundEvent, RawEvent } from "../src/subscriptions/outbound-event.js";

interface Harness {
  io: Server;
  url: string;
  routed: { taskId: string; room: string; event: OutboundEvent }[];
  close(): Promise<void>;
}

let redis: RedisServerHandle;
const open: (() => Promise<void>)[] = [];

async function startServer(withHook: boolean): Promise<Harness> {
  const pub = new Redis(redis.url);
  const sub = new Redis(redis.url, { enableReadyCheck: false });
  const routed: Harness["routed"] = [];
  const http = createServer();
  const io = new Server(http, { transports: ["websocket", "polling"] });
  if (withHook) io.adapter(createTaskEventAdapter(pub, sub, (taskId, room, event) => routed.push({ taskId, room, event })));
  await new Promise<void>((r) => http.listen(0, "127.0.0.1", r));
  const url = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
  const close = async () => {
    await io.close();
    // quit, not disconnect: the adapter's closing SUNSUBSCRIBEs may still be in flight.
    await Promise.allSettled([pub.quit(), sub.quit()]);
  };
  open.push(close);
  return { io, url, routed, close };
}

async function client(url: string, transports: ("websocket" | "polling")[]): Promise<ClientSocket> {
  const c = connect(url, { transports, forceNew: true, reconnection: false });
  open.push(async () => void c.close());
  await new Promise<void>((resolve, reject) => {
    c.once("connect", resolve);
    c.once("connect_error", reject);
  });
  return c;
}

const serverSocket = (io: Server, c: ClientSocket): Promise<Socket> =>
  vi.waitFor(
    () => {
      const s = io.of("/").sockets.get(c.id ?? "");
      if (!s) throw new Error(`server socket of ${c.id} never appeared`);
      return s;
    },
    { timeout: 1_000, interval: 10 },
  );

/** Until the pod's SSUBSCRIBE to the room's shard channel is active. */
async function subscribed(room: string): Promise<void> {
  const probe = new Redis(redis.url);
  try {
    await vi.waitFor(
      async () => {
        const [, n] = (await probe.call("PUBSUB", "SHARDNUMSUB", roomChannel(room))) as [string, number];
        if (Number(n) === 0) throw new Error(`no shard subscriber for ${room}`);
      },
      { timeout: 5_000, interval: 10 },
    );
  } finally {
    probe.disconnect();
  }
}

beforeAll(async () => {
  redis = await startRedisServer();
});
afterEach(async () => {
  while (open.length) await open.pop()?.();
});
afterAll(async () => {
  await redis?.stop();
});

describe("task event adapter hook (sharded adapter, dynamic mode)", () => {
  it("hands an event published by our publisher to onTaskEvent, not to the room's sockets", async () => {
    const h = await startServer(true);
    const c = await client(h.url, ["websocket"]);
    const seen: unknown[] = [];
    c.on("event", (e) => seen.push(e));

    const keys = createKeys(`pin${Date.now()}`);
    const store = new Redis(redis.url);
    open.push(async () => void store.disconnect());
    const { taskId, runId } = await new TaskStore(store, { keys, historyTtlSeconds: 60 }).createTask("u1", "hello");
    const publisher = new EventPublisher(store, { keys, historyMaxLen: 100, historyTtlSeconds: 60 });
    (await serverSocket(h.io, c)).join(`task:{${taskId}}`);
    await subscribed(`task:{${taskId}}`);
    const { envelope, receivers } = await publisher.publish({ taskId, runId, userId: "u1", type: "agent_started", data: { input: "x" } });

    expect(receivers).toBe(1);
    await vi.waitFor(() => expect(h.routed).toHaveLength(1));
    const routed = h.routed[0] as Harness["routed"][number];
    expect({ taskId: routed.taskId, room: routed.room }).toEqual({ taskId, room: `task:{${taskId}}` });
    // Read off the raw bytes (no JSON.parse): seq, type and ts as published.
    expect(routed.event).toBeInstanceOf(RawEvent);
    expect({ seq: routed.event.seq, type: routed.event.type, ts: routed.event.ts }).toEqual({
      seq: envelope.seq,
      type: envelope.type,
      ts: envelope.ts,
    });
    // The adapter would have written to the room's sockets in the same step as it routed the event; a
    // packet the server sends now reaches the client after anything written then.
    const marker = new Promise((resolve) => c.once("marker", resolve));
    (await serverSocket(h.io, c)).emit("marker", 1);
    await marker;
    expect(seen).toEqual([]); // the subscriptions decide per socket; the adapter wrote nothing itself
    // Written as it came, the client gets exactly the published envelope.
    routed.event.writeTo(await serverSocket(h.io, c));
    await vi.waitFor(() => expect(seen).toEqual([envelope]));
  });

  it("parses a task event in another layout the adapter's way (JSON), and still routes it to onTaskEvent", async () => {
    const h = await startServer(true);
    const c = await client(h.url, ["websocket"]);
    const room = "task:{t-other}";
    (await serverSocket(h.io, c)).join(room);
    await subscribed(room);
    const envelope: EventEnvelope = {
      v: 1,
      id: "e-2",
      seq: 3,
      type: "agent_output",
      taskId: "t-other",
      runId: "r1",
      userId: "u1",
      ts: 5,
      data: { delta: "x" },
    };
    const message = {
      uid: "emitter",
      nsp: "/",
      type: 3,
      data: { opts: { rooms: [room], except: [], flags: {} }, packet: { type: 2, data: ["event", envelope], nsp: "/" } },
    };
    const probe = new Redis(redis.url);
    open.push(async () => void probe.disconnect());
    await probe.spublish(roomChannel(room), JSON.stringify(message));
    await vi.waitFor(() => expect(h.routed).toHaveLength(1));
    const routed = h.routed[0]?.event;
    expect(routed).toBeInstanceOf(EncodedEvent);
    expect((routed as EncodedEvent).envelope).toEqual(envelope);
  });

  it("leaves every other broadcast to the adapter: user-room notices still reach sockets on other pods", async () => {
    const a = await startServer(true);
    const b = await startServer(true);
    const c = await client(b.url, ["websocket"]);
    (await serverSocket(b.io, c)).join("user:u2");
    await subscribed("user:u2");
    const got = new Promise((resolve) => c.once("task_created", resolve));
    a.io.to("user:u2").emit("task_created", { taskId: "t-9" });
    expect(await got).toEqual({ taskId: "t-9" });
    expect(a.routed).toEqual([]);
    expect(b.routed).toEqual([]);
  });
});

describe("EncodedEvent (encode once, write to many)", () => {
  const envelope: EventEnvelope = {
    v: 1,
    id: "e1",
    seq: 7,
    type: "agent_output",
    taskId: "t1",
    runId: "r1",
    userId: "u1",
    ts: 1,
    data: { delta: "héllo ✓" },
  };

  it("delivers the same `event` packet to websocket and polling sockets, encoding it once", async () => {
    const h = await startServer(false);
    const clients = [await client(h.url, ["websocket"]), await client(h.url, ["websocket"]), await client(h.url, ["polling"])];
    const sockets = await Promise.all(clients.map((c) => serverSocket(h.io, c)));
    const received = clients.map((c) => new Promise((resolve) => c.once("event", resolve)));
    const encode = vi.spyOn(h.io.of("/").adapter as unknown as { _encode: (...a: unknown[]) => unknown }, "_encode");

    const encoded = new EncodedEvent(h.io.of("/"), envelope);
    for (const s of sockets) encoded.writeTo(s);

    expect(await Promise.all(received)).toEqual([envelope, envelope, envelope]);
    expect(encode).toHaveBeenCalledTimes(1);
    // The adapter pre-built one websocket frame for all websocket sockets (Socket.IO's own broadcast path).
    const packetOpts = encode.mock.calls[0]?.[1] as { wsPreEncodedFrame?: unknown };
    expect(packetOpts.wsPreEncodedFrame).toBeDefined();
  });

  it("RawEvent writes the same payload and websocket frame as the adapter's _encode of the parsed envelope", async () => {
    const h = await startServer(false);
    const json = Buffer.from(JSON.stringify(envelope));
    const raw = new RawEvent(envelope.seq, envelope.type, envelope.ts, json);
    const written: { packets: unknown[]; opts: Record<string, unknown> }[] = [];
    const fake = { client: { writeToEngine: (packets: unknown[], opts: Record<string, unknown>) => written.push({ packets, opts }) } };
    raw.writeTo(fake as unknown as Socket);
    raw.writeTo(fake as unknown as Socket);
    const opts: Record<string, unknown> = {};
    const adapter = h.io.of("/").adapter as unknown as { _encode(p: unknown, o: Record<string, unknown>): unknown[] };
    const expected = adapter._encode({ type: 2, data: ["event", envelope], nsp: "/" }, opts);
    expect(written[0]?.packets).toEqual(expected);
    const frame = (o: Record<string, unknown>) => Buffer.concat(o.wsPreEncodedFrame as Buffer[]);
    expect(frame(written[0]?.opts ?? {}).equals(frame(opts))).toBe(true);
    // Built once, shared by every socket.
    expect(written[1]?.packets).toBe(written[0]?.packets);
    // Held back for a socket that is catching up, it keeps bytes of its own, not the Redis read it came in.
    const chunk = Buffer.from(`xxxx${JSON.stringify(envelope)}yyyy`);
    const view = new RawEvent(envelope.seq, envelope.type, envelope.ts, chunk.subarray(4, chunk.length - 4));
    const kept = view.detached();
    expect(kept.envelopeJson.equals(view.envelopeJson)).toBe(true);
    expect(kept.envelopeJson.buffer).not.toBe(chunk.buffer);
    expect(kept.envelopeJson.buffer.byteLength).toBe(view.envelopeJson.length);
    expect(view.detached()).toBe(kept); // one copy, shared by every subscription holding it

    const clients = [await client(h.url, ["websocket"]), await client(h.url, ["polling"])];
    const received = clients.map((c) => new Promise((resolve) => c.once("event", resolve)));
    for (const s of await Promise.all(clients.map((c) => serverSocket(h.io, c)))) raw.writeTo(s);
    expect(await Promise.all(received)).toEqual([envelope, envelope]);
  });
});

describe("connection internals (src/socketio/internals.ts)", () => {
  it("unsentBytes counts what a client has not taken: ws's buffer and Engine.IO's write buffer", async () => {
    const h = await startServer(false);
    const c = await client(h.url, ["websocket"]);
    const s = await serverSocket(h.io, c);
    expect(unsentBytes(s)).toBe(0);
    // A transport busy writing queues packets in Engine.IO's write buffer; each is counted once.
    (s.conn.transport as unknown as { writable: boolean }).writable = false;
    for (let i = 0; i < 20; i++) s.emit("note", "x".repeat(1_000));
    const queued = unsentBytes(s);
    expect(queued).toBeGreaterThanOrEqual(20_000);
    expect(queued).toBeLessThan(21_000);
    expect(unsentBytes(s)).toBe(queued);
    (s.conn.transport as unknown as { writable: boolean }).writable = true;
    (s.conn as unknown as { flush(): void }).flush();
    await expect.poll(() => unsentBytes(s)).toBe(0);
  });

  it("closeWithin closes a connection whose client never drains, within the grace period, server side and TCP", async () => {
    const h = await startServer(false);
    const c = await client(h.url, ["websocket"]);
    const s = await serverSocket(h.io, c);
    // Writes wait behind a transport that never becomes writable again, as behind a client that stopped reading.
    (s.conn.transport as unknown as { writable: boolean }).writable = false;
    s.emit("note", "never flushed");
    const gone = new Promise<string>((resolve) => s.once("disconnect", resolve));
    const clientSaw = new Promise<string>((resolve) => c.once("disconnect", resolve));
    expect(isWritable(s)).toBe(true);
    closeWithin(s, 200);
    expect(isWritable(s)).toBe(false); // closing: writes would be dropped
    expect(await gone).toBe("forced close");
    expect(await clientSaw).toBe("transport close");
  });

  it("socketsSharingConnection sees a second namespace socket on the same Engine.IO connection", async () => {
    const h = await startServer(false);
    h.io.of("/other");
    const c = await client(h.url, ["websocket"]);
    const s = await serverSocket(h.io, c);
    expect(socketsSharingConnection(s)).toEqual([]);
    const other = c.io.socket("/other");
    await new Promise<void>((resolve) => other.once("connect", () => resolve()));
    const shared = socketsSharingConnection(s);
    expect(shared.map((x) => x.nsp.name)).toEqual(["/other"]);
    other.disconnect();
  });
});
