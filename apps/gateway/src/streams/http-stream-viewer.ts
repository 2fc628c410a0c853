import { randomUUID } from "node:crypto";
import type { ServerResponse } from "node:http";
import type { ErrorCode } from "@agentcast/protocol";
import type { Namespace } from "socket.io";
import { joinRoomAs, leaveRoomAs } from "../socketio/internals.js";
import type { OutboundEvent } from "../subscriptions/outbound-event.js";
import { hasRoomForPage, type Viewer } from "../subscriptions/viewer.js";

/** How one HTTP streaming protocol writes what a subscription delivers (plain SSE, AG-UI, the AI SDK's UI message stream). */
export interface StreamFormat {
  /** The bytes for one task event (several frames, or none, as the protocol maps it). */
  event(event: OutboundEvent): string | Buffer | undefined;
  /** History was rewritten under the stream (a failover took back events it had): what the client is told. */
  reset(taskId: string): string | undefined;
  /**
   * True when the protocol has no way to take back what the client has: the stream ends after `reset`'s
   * frames, and the client's resume replays the run again.
   */
  readonly resetEnds?: boolean;
  /** The last frame before the server ends the stream for a reason the client should know. */
  error(code: ErrorCode, message: string): string | undefined;
  /** Keeps proxies and the client from timing out an idle stream. */
  heartbeat(): string;
}

export interface HttpStreamViewerOptions {
  res: ServerResponse;
  nsp: Namespace;
  format: StreamFormat;
  /** More unsent bytes than this and the stream is ended as a slow consumer (the client resumes). */
  maxOutboundBytes: number;
  /** A slow consumer's connection is destroyed this long after its stream was ended. */
  closeGraceMs: number;
  /** Called after each event is written (e.g. to end the stream after a run's terminal event). */
  afterWrite?: (event: OutboundEvent) => void;
  /** The stream was ended as a slow consumer. */
  onSlow?: () => void;
}

/**
 * An HTTP response as a subscription's viewer: it joins task rooms as a member of the adapter under its
 * own id, and writes what the registry delivers in its protocol's frames. A response that is gone or
 * ending takes no writes; one whose client does not read is ended past the outbound bound and resumes
 * from its last id.
 */
export class HttpStreamViewer implements Viewer {
  readonly id = `http:${randomUUID()}`;
  private ending = false;

  constructor(private readonly opts: HttpStreamViewerOptions) {}

  join(room: string): void {
    joinRoomAs(this.opts.nsp, this.id, room);
  }
  leave(room: string): void {
    leaveRoomAs(this.opts.nsp, this.id, room);
  }
  isWritable(): boolean {
    const { res } = this.opts;
    return !this.ending && !res.destroyed && !res.writableEnded;
  }
  isBackedUp(): boolean {
    return this.opts.res.writableLength > this.opts.maxOutboundBytes;
  }
  unsentBytes(): number {
    return this.opts.res.writableLength;
  }
  hasRoomFor(bytes: number): boolean {
    return hasRoomForPage(this.opts.res.writableLength, bytes, this.opts.maxOutboundBytes);
  }
  write(event: OutboundEvent): void {
    const bytes = this.opts.format.event(event);
    if (bytes !== undefined && bytes.length > 0) this.opts.res.write(bytes);
    this.opts.afterWrite?.(event);
  }
  /** Writes protocol bytes that are not a task event (a first `truncated` frame, a heartbeat). */
  writeRaw(bytes: string | undefined): void {
    if (bytes && this.isWritable()) this.opts.res.write(bytes);
  }
  reset(taskId: string): void {
    this.writeRaw(this.opts.format.reset(taskId));
    if (this.opts.format.resetEnds) this.end();
  }
  closeSlow(): void {
    if (this.ending) return;
    this.opts.onSlow?.();
    this.end("slow_consumer", "The stream fell too far behind; reconnect with Last-Event-ID to resume");
    setTimeout(() => this.opts.res.destroy(), this.opts.closeGraceMs).unref();
  }
  closeNow(): void {
    this.ending = true;
    this.opts.res.destroy();
  }
  disconnect(): void {
    this.end();
  }
  /** Ends the stream (after a last `error` frame when a code is given). */
  end(code?: ErrorCode, message?: string): void {
    if (this.ending) return;
    if (code && message) this.writeRaw(this.opts.format.error(code, message));
    this.ending = true;
    if (!this.opts.res.writableEnded) this.opts.res.end();
  }
}
