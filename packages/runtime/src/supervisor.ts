import type { Logger } from "pino";
import { Counter, type Registry } from "prom-client";

export interface SupervisorOptions {
  registry: Registry;
  /** Metric name prefix, e.g. `agentcast_gateway`. */
  metricPrefix: string;
  /** The job names this process runs in the background (the metric's label values, present from 0). */
  jobs: readonly string[];
  logger: Logger;
}

export interface Supervised {
  /** Runs `work` in the background: a rejection (or a throw) is caught, logged, counted, then `onFailure` runs. */
  run(job: string, work: () => Promise<unknown>, context?: Record<string, unknown>, onFailure?: (err: unknown) => void): void;
  /** How many supervised jobs are running now. */
  readonly running: number;
  /** Resolves when every job started so far has settled (for shutdown and tests). */
  idle(): Promise<void>;
}

/**
 * The one place background work starts. Nothing in a process fires a promise and forgets it: a
 * failure that would otherwise surface as an unhandled rejection (and end the process) is logged
 * with its job and context, counted in `<prefix>_background_failures_total{job}`, and handed to the
 * caller's `onFailure` (close the subscription, retry later…). An `onFailure` that throws is logged too.
 */
export function createSupervisor(opts: SupervisorOptions): Supervised {
  const failures = new Counter({
    name: `${opts.metricPrefix}_background_failures_total`,
    help: "Background jobs (replays, resyncs, lease renewals, clean-ups…) that failed, by job; each is logged with its context",
    labelNames: ["job"] as const,
    registers: [opts.registry],
  });
  for (const job of opts.jobs) failures.inc({ job }, 0);
  const inFlight = new Set<Promise<void>>();
  return {
    run(job, work, context = {}, onFailure) {
      let started: Promise<unknown>;
      try {
        started = work();
      } catch (err) {
        started = Promise.reject(err);
      }
      const settled = started.then(
        () => {},
        (err: unknown) => {
          failures.inc({ job });
          opts.logger.error({ err, job, ...context }, "background job failed");
          try {
            onFailure?.(err);
          } catch (cleanupErr) {
            opts.logger.error({ err: cleanupErr, job, ...context }, "clean-up after a failed background job failed");
          }
        },
      );
      inFlight.add(settled);
      void settled.finally(() => inFlight.delete(settled));
    },
    get running() {
      return inFlight.size;
    },
    async idle() {
      while (inFlight.size > 0) await Promise.all(inFlight);
    },
  };
}
