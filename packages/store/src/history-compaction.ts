import type { Keys } from "./keys.js";
import type { ScriptedRedis } from "./lua-scripts.js";

/** What one compaction did (compact-history-3.lua). */
export interface Compaction {
  /** Streamed deltas folded into their runs' snapshots (their text is kept). */
  folded: number;
  /** Events (and snapshots) dropped for good: after folding, the history was still over a bound. */
  trimmed: number;
}

/**
 * Entries a compaction brings a history down to: an eighth below the bound, so it runs about once per
 * `maxLen / 8` events rather than at every event once the bound is reached.
 */
export function compactionTarget(maxLen: number): number {
  return maxLen - Math.max(1, Math.floor(maxLen / 8));
}

/**
 * Folds a task's oldest streamed deltas into per-run snapshots until its history is within its bounds
 * (entries, and bytes unless `maxBytes` is 0); drops its oldest events and snapshots only if that is not enough.
 */
export async function compactHistory(
  redis: ScriptedRedis,
  keys: Keys,
  taskId: string,
  opts: { maxLen: number; maxBytes: number; ttlSeconds: number },
): Promise<Compaction> {
  const [folded, trimmed] = await redis.acCompactHistory(
    keys.task(taskId),
    keys.events(taskId),
    keys.snapshots(taskId),
    opts.maxLen,
    compactionTarget(opts.maxLen),
    opts.ttlSeconds,
    opts.maxBytes,
    opts.maxBytes > 0 ? compactionTarget(opts.maxBytes) : 0,
  );
  return { folded, trimmed };
}
