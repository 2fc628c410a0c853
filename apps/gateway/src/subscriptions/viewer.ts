import type { OutboundEvent } from "./outbound-event.js";

/**
 * Whoever a subscription delivers to on this gateway: a Socket.IO socket, or an HTTP stream (SSE and
 * the protocols built on it). The subscription registry reads, orders and writes through this alone,
 * so every door gets the same guarantees: history replayed then live, gapless, no duplicates, a
 * bounded buffer for a reader that does not read.
 */
export interface Viewer {
  /** Unique on this gateway; it is the viewer's member id in the adapter's rooms. */
  readonly id: string;
  /** Joins a task room: the first viewer of a room makes this pod subscribe to its shard channel. */
  join(room: string): void;
  leave(room: string): void;
  /** Connected and not closing: a write now reaches the client (else it would be dropped silently). */
  isWritable(): boolean;
  /** More unsent bytes than the outbound bound. */
  isBackedUp(): boolean;
  /** Bytes written that the client has not taken yet. */
  unsentBytes(): number;
  /**
   * A replay may write a page of about `bytes` now: with it, unsent bytes stay within half the outbound
   * bound (or nothing is unsent). A replay waits for this before each page, so a reader that reads is
   * never closed for the size of the history it asked for, and live events find room after it.
   */
  hasRoomFor(bytes: number): boolean;
  /** Writes one event (may throw). */
  write(event: OutboundEvent): void;
  /** History was rewritten under the viewer: it must discard the task's events (`task_reset`). */
  reset(taskId: string): void;
  /** Past the outbound bound: tell the client if it can be told, and close within the grace. */
  closeSlow(): void;
  /** A write threw: close at once, discarding what is queued. */
  closeNow(): void;
  /** Delivery cannot go on (history unreadable, a resync failed): close so the client resumes from its last seq. */
  disconnect(): void;
}

/** `Viewer.hasRoomFor`'s rule, the same for every kind of viewer: within half the outbound bound, or nothing unsent. */
export function hasRoomForPage(unsent: number, bytes: number, maxOutboundBytes: number): boolean {
  return unsent === 0 || unsent + bytes <= maxOutboundBytes / 2;
}
