import type { EventEnvelope } from "@agentcast/protocol";
import type { Namespace, Socket } from "socket.io";

/** socket.io-parser's PacketType.EVENT. */
const EVENT_PACKET = 2;

/** The in-memory adapter's encoder: Socket.IO packet → Engine.IO payloads, plus a pre-built websocket frame. */
interface PacketEncoder {
  _encode(packet: { type: number; data: unknown[]; nsp: string }, packetOpts: Record<string, unknown>): unknown[];
}
interface EngineWriter {
  writeToEngine(encodedPackets: unknown[], opts: Record<string, unknown>): void;
}

/**
 * One `event` packet, encoded once and written to any number of sockets — what Socket.IO's own
 * broadcast does (`Adapter.broadcast`: `_encode` once, then `client.writeToEngine` per socket), so a
 * live event fanned out to N sockets costs one JSON encoding and one websocket frame, not N.
 * Pinned against the installed socket.io / socket.io-adapter by `test/adapter-hooks.test.ts`.
 */
export class EncodedEvent {
  private packets: unknown[] | undefined;
  private readonly packetOpts: Record<string, unknown> = { preEncoded: true };

  constructor(
    private readonly nsp: Namespace,
    readonly envelope: EventEnvelope,
  ) {}

  writeTo(socket: Socket): void {
    this.packets ??= (this.nsp.adapter as unknown as PacketEncoder)._encode(
      { type: EVENT_PACKET, data: ["event", this.envelope], nsp: this.nsp.name },
      this.packetOpts,
    );
    (socket as unknown as { client: EngineWriter }).client.writeToEngine(this.packets, this.packetOpts);
  }
}
