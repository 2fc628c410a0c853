import { sleep } from "./clock.js";

export interface PaceOptions {
  /** Events per second offered. */
  rate: number;
  durationMs: number;
  /** Sends not yet settled beyond which the pacer waits (it then falls behind the offered rate). */
  maxInFlight: number;
  /** Sends event number `i` (from 0); may return a promise. */
  send: (i: number) => Promise<unknown> | undefined;
  /** Longest wait for sends still in flight at the end. */
  settleTimeoutMs?: number;
}

export interface PaceResult {
  published: number;
  errors: number;
  elapsedMs: number;
  /** Events that were due but not sent when time ran out (the publisher could not keep up). */
  behind: number;
}

/** Sends at `rate` events/s for `durationMs`, in 1 ms ticks, bounded in count, time and in-flight sends. */
export async function pace(opts: PaceOptions): Promise<PaceResult> {
  const total = Math.floor((opts.rate * opts.durationMs) / 1000);
  const maxPerTick = Math.max(1, Math.ceil(opts.rate / 100));
  let sent = 0;
  let errors = 0;
  let inFlight = 0;
  const settled = () => {
    inFlight--;
  };
  const failed = () => {
    errors++;
    inFlight--;
  };
  const start = performance.now();
  for (;;) {
    const elapsed = performance.now() - start;
    if (elapsed >= opts.durationMs || sent >= total) break;
    const due = Math.min(total, Math.floor((opts.rate * elapsed) / 1000));
    let tick = 0;
    while (sent < due && inFlight < opts.maxInFlight && tick < maxPerTick) {
      const p = opts.send(sent++);
      tick++;
      if (p) {
        inFlight++;
        p.then(settled, failed);
      }
    }
    await sleep(1);
  }
  const elapsedMs = performance.now() - start;
  const behind = total - sent;
  const deadline = Date.now() + (opts.settleTimeoutMs ?? 30_000);
  while (inFlight > 0 && Date.now() < deadline) await sleep(5);
  return { published: sent - errors, errors, elapsedMs, behind };
}
