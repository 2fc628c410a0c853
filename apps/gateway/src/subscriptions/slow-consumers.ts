import type { Logger } from "pino";
import type { Socket } from "socket.io";
import { closeWithin, unsentBytes } from "../socketio/internals.js";
import { hasRoomForPage } from "./viewer.js";

export interface SlowConsumerOptions {
  /** A socket with more unsent bytes than this is closed (it resumes from history). */
  maxOutboundBytes: number;
  /** A slow consumer's connection is gone (server side and TCP) at most this long after it crossed the bound. */
  closeGraceMs: number;
  onClosed?: () => void;
  logger: Logger;
}

/**
 * The bound on what a gateway buffers for a socket that does not read. A socket past it is told
 * (`error { code: "slow_consumer" }`, which reaches a client that still reads a little) and closed
 * within `closeGraceMs` whatever the client does; it reconnects and resumes from history.
 */
export class SlowConsumers {
  private readonly closing = new WeakSet<Socket>();

  constructor(private readonly opts: SlowConsumerOptions) {}

  isBackedUp(socket: Socket): boolean {
    return unsentBytes(socket) > this.opts.maxOutboundBytes;
  }

  /** See `Viewer.hasRoomFor`. */
  hasRoomFor(socket: Socket, bytes: number): boolean {
    return hasRoomForPage(unsentBytes(socket), bytes, this.opts.maxOutboundBytes);
  }

  close(socket: Socket): void {
    if (this.closing.has(socket)) return;
    this.closing.add(socket);
    this.opts.onClosed?.();
    this.opts.logger.warn({ socketId: socket.id }, "slow consumer: closing the connection so it resumes from history");
    socket.emit("error", { code: "slow_consumer", message: "The connection fell too far behind; reconnect and resume with sinceSeq" });
    closeWithin(socket, this.opts.closeGraceMs);
  }
}
