import type { Keys } from "./keys.js";
import type { ScriptedRedis } from "./lua-scripts.js";

/** What one compaction did (compact-history-3.lua). */
export interface Compaction {
  /** Streamed deltas folded into their runs' snapshots (their text is kept). */
  folded: number;
  /** Events dropped for good: the events that are not deltas alone were over the bound. */
  trimmed: number;
}

/**
 * Entries a compaction brings a history down to: an eighth below the bound, so it runs about once per
 * `maxLen / 8` events rather than at every event once the bound is reached.
 */
export function compactionTarget(maxLen: number): number {
  return maxLen - Math.max(1, Math.floor(maxLen / 8));
}

/** Folds a task's oldest streamed deltas into per-run snapshots until its history is within its bound. */
export async function compactHistory(
  redis: ScriptedRedis,
  keys: Keys,
  taskId: string,
  opts: { maxLen: number; ttlSeconds: number },
): Promise<Compaction> {
  const [folded, trimmed] = await redis.acCompactHistory(
    keys.task(taskId),
    keys.events(taskId),
    keys.snapshots(taskId),
    opts.maxLen,
    compactionTarget(opts.maxLen),
    opts.ttlSeconds,
  );
  return { folded, trimmed };
}
