import type { IdleResult } from "../scenarios/idle.js";
import type { IsolationResult } from "../scenarios/isolation.js";
import type { LlmResult } from "../scenarios/llm.js";
import type { StepResult } from "../scenarios/step.js";
import type { StormResult } from "../scenarios/storm.js";
import type { SweepResult } from "../scenarios/sweep.js";

export interface BenchResults {
  startedAt: string;
  finishedAt?: string;
  command: string;
  machine: { cpus: number; cpuModel: string; memoryGB: number; node: string; redis: string; kernel: string };
  options: unknown;
  sweep?: SweepResult;
  idle?: IdleResult[];
  isolation?: IsolationResult[];
  storm?: StormResult;
  fanout?: (StepResult & { watchers: number })[];
  llm?: LlmResult;
  errors: { scenario: string; message: string }[];
}
