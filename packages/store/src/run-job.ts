import type { JobsOptions } from "bullmq";

/** The BullMQ job payload for one run (job id = runId). */
export interface RunJobData {
  taskId: string;
  runId: string;
  userId: string;
  text: string;
}

/**
 * Options of every run job. A retried attempt finds its run already started and ends it as
 * run_stalled (never a silent stall, never a second agent_started).
 */
export function runJobOptions(runId: string): JobsOptions {
  return {
    jobId: runId,
    attempts: 3,
    backoff: { type: "exponential", delay: 1_000 },
    removeOnComplete: { age: 3_600, count: 10_000 },
    removeOnFail: { age: 86_400 },
  };
}
