import type { EventEnvelope, EventType } from "@agentcast/protocol";
import { EVENT_NAME, EVENT_PACKET, EVENT_PACKET_HEAD } from "@agentcast/store";
import type { Namespace, Socket } from "socket.io";
import { type EncodedPackets, encodePacket, preEncodedMessage, writeEncoded } from "../socketio/internals.js";

/** An event on its way to sockets: what the subscriptions need to order it, and one shared encoding. */
export interface OutboundEvent {
  readonly seq: number;
  readonly type: EventType;
  readonly ts: number;
  /** The envelope's `id` (undefined when not known): how a subscription tells a rewritten seq from a duplicate. */
  readonly id: string | undefined;
  /** Writes the event's `event` packet to the socket (encoded on first use, then shared). */
  writeTo(socket: Socket): void;
  /** The envelope's JSON (for HTTP streams): the stored bytes when our script wrote them. */
  json(): Buffer | string;
  /** The same event holding only memory of its own, for keeping it past this tick (held back while a socket catches up). */
  detached(): OutboundEvent;
}

/**
 * One `event` packet from an envelope object, encoded once and written to any number of sockets —
 * what Socket.IO's own broadcast does (`_encode` once, then a write per socket), so a fan-out to N
 * sockets costs one JSON encoding and one websocket frame, not N. Used for events that did not come
 * from our publish script (history written in another layout, another emitter).
 */
export class EncodedEvent implements OutboundEvent {
  private encoded: EncodedPackets | undefined;
  private text: string | undefined;

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
  get id(): string | undefined {
    return typeof this.envelope.id === "string" ? this.envelope.id : undefined;
  }

  detached(): OutboundEvent {
    return this;
  }

  json(): string {
    this.text ??= JSON.stringify(this.envelope);
    return this.text;
  }

  writeTo(socket: Socket): void {
    this.encoded ??= encodePacket(this.nsp, EVENT_PACKET, [EVENT_NAME, this.envelope]);
    writeEncoded(socket, this.encoded);
  }
}

const PACKET_HEAD = Buffer.from(EVENT_PACKET_HEAD);
const CLOSE_BRACKET = 0x5d;

/**
 * An event as our publish script wrote it: the envelope's JSON bytes go into the `event` packet as
 * they are — no JSON.parse of the Redis message, no JSON.stringify per event — with the same
 * websocket frame and Engine.IO payload that `_encode` would have produced for the parsed envelope
 * (`test/adapter-hooks.test.ts` compares the two).
 */
export class RawEvent implements OutboundEvent {
  private encoded: EncodedPackets | undefined;
  private copy: RawEvent | undefined;

  constructor(
    readonly seq: number,
    readonly type: EventType,
    readonly ts: number,
    /** The envelope's JSON; from the adapter hook, a view into the Redis read it arrived in. */
    readonly envelopeJson: Buffer,
    readonly id: string | undefined = undefined,
  ) {}

  /** A copy of the bytes in a buffer of their own: a view kept for long would pin the whole Redis read it came in. */
  detached(): RawEvent {
    if (!this.copy) {
      const own = Buffer.allocUnsafeSlow(this.envelopeJson.length);
      this.envelopeJson.copy(own);
      this.copy = new RawEvent(this.seq, this.type, this.ts, own, this.id);
    }
    return this.copy;
  }

  json(): Buffer {
    return this.envelopeJson;
  }

  writeTo(socket: Socket): void {
    if (!this.encoded) {
      const payload = Buffer.allocUnsafe(PACKET_HEAD.length + this.envelopeJson.length + 1);
      PACKET_HEAD.copy(payload, 0);
      this.envelopeJson.copy(payload, PACKET_HEAD.length);
      payload[payload.length - 1] = CLOSE_BRACKET;
      this.encoded = preEncodedMessage(payload);
    }
    writeEncoded(socket, this.encoded);
  }
}
