import type { Namespace, Socket } from "socket.io";
import type { Adapter } from "socket.io-adapter";
import * as ws from "ws";

/**
 * The one module that touches Socket.IO's and Engine.IO's internals (members that are not part of
 * their documented API). Everything else in the gateway goes through these functions, so an upgrade
 * of socket.io, engine.io, socket.io-adapter or ws is checked in one place;
 * `test/adapter-hooks.test.ts` pins each of them against the installed versions.
 */

/** Engine.IO payloads plus the options `writeToEngine` takes (`preEncoded`, a pre-built websocket frame). */
export interface EncodedPackets {
  readonly packets: readonly unknown[];
  readonly opts: Record<string, unknown>;
}

interface PacketEncoder {
  _encode(packet: { type: number; data: unknown[]; nsp: string }, packetOpts: Record<string, unknown>): unknown[];
}
interface EngineWriter {
  writeToEngine(encodedPackets: readonly unknown[], opts: Record<string, unknown>): void;
}
/** What this module reads of an Engine.IO connection. */
interface EngineConnection {
  readyState: string;
  writeBuffer: { data?: unknown }[];
  transport: { name: string; socket?: { bufferedAmount?: number; readyState?: number; terminate?: () => void } };
  close(discard?: boolean): void;
}

const engineOf = (socket: Socket) => socket.conn as unknown as EngineConnection;

/** A Socket.IO packet encoded once by the namespace adapter's encoder (`Adapter.broadcast` does the same). */
export function encodePacket(nsp: Namespace, type: number, data: unknown[]): EncodedPackets {
  const opts: Record<string, unknown> = { preEncoded: true };
  const packets = (nsp.adapter as unknown as PacketEncoder)._encode({ type, data, nsp: nsp.name }, opts);
  return { packets, opts };
}

const FRAME_OPTIONS = { readOnly: false, mask: false, rsv1: false, opcode: 1, fin: true };
// ws's ESM entry exports its Sender (untyped in @types/ws); `WebSocket.Sender` exists only once ws's CJS
// entry has run, which depends on import order.
const frameOf = (ws as unknown as { Sender: { frame(data: Buffer, o: typeof FRAME_OPTIONS): Buffer[] } }).Sender.frame;
const WS_CLOSED = 3; // WebSocket.CLOSED

/**
 * An Engine.IO message whose bytes are already known (`payload` starts with the Engine.IO packet type):
 * the polling payload and the websocket frame `_encode` would have built for it.
 */
export function preEncodedMessage(payload: Buffer): EncodedPackets {
  return {
    packets: [payload.toString("utf8", 1)],
    opts: { preEncoded: true, wsPreEncodedFrame: frameOf(payload, FRAME_OPTIONS) },
  };
}

/** Writes encoded packets to one socket's connection, as Socket.IO's broadcast does per socket. */
export function writeEncoded(socket: Socket, encoded: EncodedPackets): void {
  (socket as unknown as { client: EngineWriter }).client.writeToEngine(encoded.packets, encoded.opts);
}

/** The socket is connected and its Engine.IO connection open (a write would not be silently dropped). */
export function isWritable(socket: Socket): boolean {
  return socket.connected && engineOf(socket).readyState === "open";
}

/** Bytes counted so far in each connection's current Engine.IO write buffer. */
const counted = new WeakMap<EngineConnection, { buffer: unknown[]; scanned: number; bytes: number }>();

/**
 * Bytes sent to a socket that its client has not taken yet: what ws holds, plus the packets Engine.IO
 * queues while the transport is not writable (a client that stops reading leaves them there).
 * Engine.IO only pushes to its write buffer and replaces it on flush, so bytes already counted in a
 * buffer stay counted: each call adds only what was queued since (a backed-up socket in a fan-out
 * would otherwise rescan its whole queue for every event). Cheap below 8 queued packets.
 */
export function unsentBytes(socket: Socket): number {
  const conn = engineOf(socket);
  const bytes = conn.transport.socket?.bufferedAmount ?? 0;
  const queue = conn.writeBuffer;
  if (queue.length < 8) return bytes;
  let q = counted.get(conn);
  if (!q || q.buffer !== queue || q.scanned > queue.length) {
    q = { buffer: queue, scanned: 0, bytes: 0 };
    counted.set(conn, q);
  }
  for (; q.scanned < queue.length; q.scanned++) {
    const data = queue[q.scanned]?.data;
    q.bytes += typeof data === "string" ? data.length : ((data as { byteLength?: number } | undefined)?.byteLength ?? 0);
  }
  return bytes + q.bytes;
}

/**
 * Closes a connection within `graceMs` whatever its client does: first gracefully (what is queued,
 * e.g. a last `error` notice, is flushed if the client still reads), then — a client that does not
 * read never drains, and Engine.IO would wait for that drain until the heartbeat times out — the
 * queue is discarded and the TCP connection destroyed.
 */
export function closeWithin(socket: Socket, graceMs: number): void {
  const conn = engineOf(socket);
  conn.close();
  const force = () => {
    const socket = conn.transport.socket;
    if (conn.readyState !== "closed") conn.close(true);
    if (socket && socket.readyState !== WS_CLOSED) socket.terminate?.();
  };
  if (graceMs <= 0) force();
  else setTimeout(force, graceMs).unref();
}

/** Closes a connection at once, discarding what is queued on it (its writes fail). */
export function closeNow(socket: Socket): void {
  engineOf(socket).close(true);
}

/** The other Socket.IO sockets (namespaces connected or connecting) on this socket's Engine.IO connection. */
export function socketsSharingConnection(socket: Socket): Socket[] {
  const client = (socket as unknown as { client: { sockets: Map<string, Socket> } }).client;
  return [...client.sockets.values()].filter((s) => s !== socket);
}

/** The adapter's two receive paths of shard-channel messages: raw bytes first, then a parsed ClusterMessage. */
export interface AdapterReceivers<M> {
  /** Return true when the raw message was handled; false hands it to the adapter's own parsing. */
  raw(raw: Buffer, channel: Buffer): boolean;
  /** Return true when the parsed message was handled; false lets the adapter act on it. */
  parsed(message: M): boolean;
}

/** Puts `receivers` in front of the sharded adapter's `onRawMessage` / `onMessage`. */
export function interceptAdapterMessages<M>(adapter: Adapter, receivers: AdapterReceivers<M>): void {
  const a = adapter as unknown as {
    onMessage(m: M, offset?: string): void;
    onRawMessage(raw: Buffer, channel: Buffer): void;
  };
  const originalRaw = a.onRawMessage.bind(a);
  a.onRawMessage = (raw, channel) => {
    if (!(Buffer.isBuffer(raw) && Buffer.isBuffer(channel) && receivers.raw(raw, channel))) originalRaw(raw, channel);
  };
  const original = a.onMessage.bind(a);
  a.onMessage = (message, offset) => {
    if (!receivers.parsed(message)) original(message, offset);
  };
}

/**
 * Puts a member that is not a socket (an HTTP stream) in a room of the namespace's adapter, under its own
 * id: the sharded adapter subscribes to the room's shard channel when the room is created, and our
 * task-event hook delivers to every member id the registry knows. Socket.IO's own broadcasts skip ids
 * without a socket (`apply` looks each one up), so nothing else reaches such a member.
 */
export function joinRoomAs(nsp: Namespace, memberId: string, room: string): void {
  void nsp.adapter.addAll(memberId, new Set([room]));
}

/** Removes a non-socket member from a room; the last member leaving unsubscribes the pod from its channel. */
export function leaveRoomAs(nsp: Namespace, memberId: string, room: string): void {
  void nsp.adapter.del(memberId, room);
}
