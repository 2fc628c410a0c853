import type { HealthStatus } from "@agentcast/runtime";
import type { Worker } from "bullmq";
import type { Logger } from "pino";

/** The part of a BullMQ worker this watches: its consumer loop and its `closed` event. */
type ConsumerLoop = Pick<Worker, "run" | "once">;

/**
 * Runs a BullMQ worker's consumer loop and knows whether it still runs: `worker.run()` settling (it
 * rejects when its main loop throws) or the worker closing, while the process is not stopping, means
 * this process takes no more jobs. That is logged (fatal), counted once, and turns `health()` down, so
 * the worker's `/healthz` answers 503 and its orchestrator replaces it.
 */
export class ConsumerLiveness {
  private stopping = false;
  private stoppedReason: string | undefined;

  constructor(
    private readonly worker: ConsumerLoop,
    private readonly logger: Logger,
    private readonly onStopped: () => void,
  ) {}

  /** Starts the consumer loop under watch. */
  start(): void {
    this.worker.once("closed", () => this.stopped("the job consumer closed"));
    this.worker.run().then(
      () => this.stopped("the job consumer loop ended"),
      (err: unknown) => this.stopped("the job consumer loop failed", err),
    );
  }

  /** The process is shutting down: the loop ending from now on is expected. */
  stop(): void {
    this.stopping = true;
  }

  /** Liveness: up while the consumer loop runs (or the process is stopping on purpose). */
  health(): HealthStatus {
    return this.stoppedReason === undefined ? { ok: true } : { ok: false, reason: this.stoppedReason };
  }

  private stopped(reason: string, err?: unknown): void {
    if (this.stopping || this.stoppedReason !== undefined) return;
    this.stoppedReason = reason;
    this.onStopped();
    this.logger.fatal({ err, reason }, "job consumer stopped: this worker takes no more jobs; /healthz is 503");
  }
}
