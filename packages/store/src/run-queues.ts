import { type Job, type JobsOptions, Queue } from "bullmq";
import type { RedisClient } from "./redis-connection.js";
import { type RunJobData, runJobOptions } from "./run-job.js";

/**
 * The BullMQ queue of shard `shard`. Its name is a Redis Cluster hash tag (`{runs-<shard>}`), so every key
 * of one queue is on one slot (BullMQ's multi-key scripts need that) and different shards land on
 * different slots — on a cluster, the queues' load is spread over the masters instead of all on one.
 */
export function runQueueName(shard: number): string {
  return `{runs-${shard}}`;
}

/** The shard a task's runs go to: the same for every run of the task, spread evenly over tasks (FNV-1a). */
export function runQueueShardOf(taskId: string, shards: number): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < taskId.length; i++) {
    h ^= taskId.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0) % shards;
}

export interface RunQueuesOptions {
  connection: RedisClient;
  /** BullMQ key prefix (`Keys.queuePrefix`). */
  prefix: string;
  /** RUN_QUEUE_SHARDS: the same on every gateway and worker. */
  shards: number;
}

/** The run queues, one per shard: a run is queued on its task's shard. */
export class RunQueues {
  readonly queues: readonly Queue<RunJobData>[];

  constructor(private readonly opts: RunQueuesOptions) {
    this.queues = Array.from(
      { length: opts.shards },
      (_, shard) => new Queue<RunJobData>(runQueueName(shard), { connection: opts.connection, prefix: opts.prefix }),
    );
  }

  /** The queue of `taskId`'s shard. */
  of(taskId: string): Queue<RunJobData> {
    return this.queues[runQueueShardOf(taskId, this.opts.shards)] as Queue<RunJobData>;
  }

  /** Queues a run (job id = runId: adding the same run twice adds one job). */
  add(job: RunJobData, options: JobsOptions = runJobOptions(job.runId)): Promise<Job<RunJobData>> {
    return this.of(job.taskId).add("run", job, options);
  }

  /** The job of run `runId` of `taskId`, if BullMQ holds it. */
  async getJob(taskId: string, runId: string): Promise<Job<RunJobData> | undefined> {
    return (await this.of(taskId).getJob(runId)) ?? undefined;
  }

  /** Jobs by state, summed over every shard. */
  async getJobCounts(...states: string[]): Promise<Record<string, number>> {
    const all = await Promise.all(this.queues.map((q) => q.getJobCounts(...(states as Parameters<Queue["getJobCounts"]>))));
    const sum: Record<string, number> = {};
    for (const counts of all) for (const [state, n] of Object.entries(counts)) sum[state] = (sum[state] ?? 0) + n;
    return sum;
  }

  on(event: "error", listener: (err: Error) => void): void {
    for (const q of this.queues) q.on(event, listener);
  }

  async close(): Promise<void> {
    await Promise.all(this.queues.map((q) => q.close()));
  }
}
