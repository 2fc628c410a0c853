import { taskRoom } from "@agentcast/protocol";
import type { SubscriptionStart } from "./subscription.js";
import type { Entry, SubscriptionRegistry } from "./subscription-registry.js";
import type { Viewer } from "./viewer.js";

/**
 * A command's hold on one subscription while the command runs. Open it with `await using`:
 *
 *     await using lease = subscriptions.lease(viewer);
 *     lease.secure(taskId);                              // refused (limit_exceeded) before any state changes
 *     const start = await lease.open(taskId, sinceSeq);  // in the room, confirmed, position read
 *     …                                                  // anything here may still fail
 *     lease.commit();                                    // the registry replays and goes live
 *
 * If the command fails anywhere before `commit()`, disposing the lease closes the subscription and
 * leaves the room, so a refused or failed command leaves the viewer exactly as it was.
 */
export class SubscriptionLease implements AsyncDisposable {
  private entry: Entry | undefined;
  private committed = false;
  private opened = false;
  /** A place under the socket's subscription cap is reserved for this lease. */
  private reserved = false;

  constructor(
    private readonly registry: SubscriptionRegistry,
    private readonly viewer: Viewer,
  ) {}

  /**
   * Makes sure `open` can follow `taskId` (undefined: a task not created yet) without passing the
   * socket's subscription cap: reserves a place unless the socket already follows the task. Throws
   * limit_exceeded when there is none; call it before changing anything.
   */
  secure(taskId?: string): void {
    if (this.reserved || (taskId !== undefined && this.registry.has(this.viewer.id, taskId))) return;
    this.registry.reserve(this.viewer.id);
    this.reserved = true;
  }

  /**
   * Subscribes the socket to `taskId` from `sinceSeq` (`sinceId`: the client's id of its event there,
   * checked against history): resolves once live events are being captured,
   * with what the ack should say. A socket that already follows the task keeps its subscription (no
   * seq is sent twice); the position is read for the ack.
   */
  async open(taskId: string, sinceSeq: number, sinceId?: string): Promise<SubscriptionStart> {
    if (this.opened) throw new Error("a lease opens one subscription");
    this.opened = true;
    if (this.registry.has(this.viewer.id, taskId)) {
      const { lastSeq } = await this.registry.position(taskId);
      return { lastSeq };
    }
    this.secure();
    this.entry = this.registry.add(this.viewer, taskId, taskRoom(taskId), sinceSeq, sinceId);
    this.reserved = false;
    return this.registry.join(this.entry);
  }

  /** The command succeeded: hand the subscription to the registry. */
  commit(): void {
    this.committed = true;
    if (this.entry) this.registry.commit(this.entry);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    if (this.reserved) this.registry.release(this.viewer.id);
    this.reserved = false;
    if (this.entry && !this.committed) this.registry.remove(this.entry);
  }
}
