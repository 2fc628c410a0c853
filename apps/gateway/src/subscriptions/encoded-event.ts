import type { EventEnvelope, EventType } from "@agentcast/protocol";
import type { Namespace, Socket } from "socket.io";
import { WebSocket } from "ws";

/** socket.io-parser's PacketType.EVENT. */
const EVENT_PACKET = 2;

/** An event on its way to sockets: what the subscriptions need to order it, and one shared encoding. */
export interface OutboundEvent {
  readonly seq: number;
  readonly type: EventType;
  readonly ts: number;
  /** Writes the event's `event` packet to the socket (encoded on first use, then shared). */
  writeTo(socket: Socket): void;
  /** The same event holding only memory of its own, for keeping it past this tick (held back while a socket catches up). */
  detached(): OutboundEvent;
}

/** The in-memory adapter's encoder: Socket.IO packet → Engine.IO payloads, plus a pre-built websocket frame. */
interface PacketEncoder {
  _encode(packet: { type: number; data: unknown[]; nsp: string }, packetOpts: Record<string, unknown>): unknown[];
}
interface EngineWriter {
  writeToEngine(encodedPackets: unknown[], opts: Record<string, unknown>): void;
}

const write = (socket: Socket, packets: unknown[], opts: Record<string, unknown>) =>
  (socket as unknown as { client: EngineWriter }).client.writeToEngine(packets, opts);

/**
 * One `event` packet from an envelope object, encoded once and written to any number of sockets —
 * what Socket.IO's own broadcast does (`Adapter.broadcast`: `_encode` once, then
 * `client.writeToEngine` per socket), so a fan-out to N sockets costs one JSON encoding and one
 * websocket frame, not N. Used for history replay and for events that did not come from our publish
 * script. Pinned against the installed socket.io / socket.io-adapter by `test/adapter-hooks.test.ts`.
 */
export class EncodedEvent implements OutboundEvent {
  private packets: unknown[] | undefined;
  private readonly packetOpts: Record<string, unknown> = { preEncoded: true };

  constructor(
    private readonly nsp: Namespace,
    readonly envelope: EventEnvelope,
  ) {}

  get seq(): number {
    return this.envelope.seq;
  }
  get type(): EventType {
    return this.envelope.type;
  }
  get ts(): number {
    return this.envelope.ts;
  }

  detached(): OutboundEvent {
    return this;
  }

  writeTo(socket: Socket): void {
    this.packets ??= (this.nsp.adapter as unknown as PacketEncoder)._encode(
      { type: EVENT_PACKET, data: ["event", this.envelope], nsp: this.nsp.name },
      this.packetOpts,
    );
    write(socket, this.packets, this.packetOpts);
  }
}

/** `4` (Engine.IO message) + `2` (Socket.IO EVENT) + `["event",` … `]`. */
const PACKET_HEAD = Buffer.from('42["event",');
const FRAME_OPTIONS = { readOnly: false, mask: false, rsv1: false, opcode: 1, fin: true };
const frameOf = (WebSocket as unknown as { Sender: { frame(data: Buffer, o: typeof FRAME_OPTIONS): Buffer[] } }).Sender.frame;

/**
 * A live event as our publish script wrote it: the envelope's JSON bytes go into the `event` packet
 * as they are — no JSON.parse of the Redis message, no JSON.stringify per event — with the same
 * pre-built websocket frame and Engine.IO payload that `_encode` would have produced for the parsed
 * envelope (`test/adapter-hooks.test.ts` compares the two).
 */
export class RawEvent implements OutboundEvent {
  private packets: string[] | undefined;
  private readonly packetOpts: Record<string, unknown> = { preEncoded: true };
  private copy: RawEvent | undefined;

  constructor(
    readonly seq: number,
    readonly type: EventType,
    readonly ts: number,
    /** The envelope's JSON; from the adapter hook, a view into the Redis read it arrived in. */
    readonly envelopeJson: Buffer,
  ) {}

  /** A copy of the bytes in a buffer of their own: a view kept for long would pin the whole Redis read it came in. */
  detached(): RawEvent {
    if (!this.copy) {
      const own = Buffer.allocUnsafeSlow(this.envelopeJson.length);
      this.envelopeJson.copy(own);
      this.copy = new RawEvent(this.seq, this.type, this.ts, own);
    }
    return this.copy;
  }

  writeTo(socket: Socket): void {
    if (!this.packets) {
      const data = Buffer.allocUnsafe(PACKET_HEAD.length + this.envelopeJson.length + 1);
      PACKET_HEAD.copy(data, 0);
      this.envelopeJson.copy(data, PACKET_HEAD.length);
      data[data.length - 1] = 0x5d; // ]
      this.packetOpts.wsPreEncodedFrame = frameOf(data, FRAME_OPTIONS);
      // Polling transports (and the slow-consumer byte count) use the payload string.
      this.packets = [data.toString("utf8", 1)];
    }
    write(socket, this.packets, this.packetOpts);
  }
}
