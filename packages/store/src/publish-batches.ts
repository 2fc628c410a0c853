import { keySlot } from "./key-slot.js";
import type { ScriptedRedis } from "./lua-scripts.js";
import { isCluster } from "./redis-connection.js";

/** One event for publish-events-n.lua: its 4 keys and 16 arguments, in the script's order. */
export interface ScriptEvent {
  keys: readonly [task: string, events: string, question: string, snapshots: string];
  args: readonly (string | number)[];
}

/** What the script answered for one event. */
export type ScriptReply = [seq: number, code: number, over: number];

interface Queued {
  event: ScriptEvent;
  resolve(reply: ScriptReply): void;
  reject(err: unknown): void;
}

/** Events per script call at most: a call blocks Redis while it runs (about 30 µs per event on this class of machine). */
export const MAX_EVENTS_PER_CALL = 64;

/**
 * Group commit for publish-events-n.lua. An event sent while no call is in flight for its group goes out
 * at the end of the current turn of the event loop, with whatever else was sent in that turn; events
 * sent while a call is in flight wait for its reply and go out together in the next one. One script call
 * and one write carry many events, and nothing waits longer than one round trip for company.
 *
 * A group is one Redis node's worth of keys that a script may touch together: the whole keyspace on a
 * single node, one hash slot on a Redis Cluster. Events go out in the order they were sent, so a
 * caller's events keep their order (Redis runs one call's events in turn). Each event gets its own
 * answer; a call that fails (a lost connection, a Lua error) fails every event in it, and each caller
 * retries its own event (the script is idempotent per position).
 */
export class PublishBatches {
  private readonly queues = new Map<string, Queued[]>();
  /** Groups with a call in flight or a flush scheduled. */
  private readonly busy = new Set<string>();

  constructor(private readonly redis: ScriptedRedis) {}

  send(event: ScriptEvent): Promise<ScriptReply> {
    const group = isCluster(this.redis) ? String(keySlot(event.keys[0])) : "";
    return new Promise((resolve, reject) => {
      const queue = this.queues.get(group);
      if (queue) queue.push({ event, resolve, reject });
      else this.queues.set(group, [{ event, resolve, reject }]);
      if (this.busy.has(group)) return;
      this.busy.add(group);
      setImmediate(() => this.flush(group));
    });
  }

  private flush(group: string): void {
    const queue = this.queues.get(group) ?? [];
    this.queues.delete(group);
    this.busy.delete(group);
    for (let start = 0; start < queue.length; start += MAX_EVENTS_PER_CALL) this.call(queue.slice(start, start + MAX_EVENTS_PER_CALL));
  }

  private call(batch: Queued[]): void {
    const keys: string[] = [];
    const args: (string | number)[] = [];
    for (const { event } of batch) {
      keys.push(...event.keys);
      args.push(...event.args);
    }
    this.redis.acPublishEvents(keys.length, ...keys, ...args).then(
      (flat) => {
        for (const [i, queued] of batch.entries()) queued.resolve([Number(flat[3 * i]), Number(flat[3 * i + 1]), Number(flat[3 * i + 2])]);
      },
      (err: unknown) => {
        for (const queued of batch) queued.reject(err);
      },
    );
  }
}
