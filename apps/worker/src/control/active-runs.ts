import type { RedisClient, TaskStore } from "@agentcast/store";
import type { Logger } from "pino";
import type { RunContext } from "../runs/run-context.js";

interface ControlMessage {
  type?: string;
  taskId?: string;
  runId?: string;
  questionId?: string;
}

/**
 * The runs this worker is executing, and how cancels and answers reach them: the control channel
 * (fast path) plus a poll of Redis every `pollIntervalMs` (in case a message was missed). The same
 * poll is the watchdog: a run with no event for `stallTimeoutMs` (not counting time spent waiting
 * for the user's answer) is stalled.
 */
export class ActiveRuns {
  private readonly runs = new Map<string, RunContext>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly sub: RedisClient,
    private readonly channel: string,
    private readonly tasks: TaskStore,
    private readonly pollIntervalMs: number,
    private readonly stallTimeoutMs: number,
    private readonly logger: Logger,
  ) {}

  async start(): Promise<void> {
    this.sub.on("message", (channel: string, raw: string) => {
      if (channel === this.channel) this.onControl(raw);
    });
    await this.sub.subscribe(this.channel);
    this.timer = setInterval(() => void this.poll(), this.pollIntervalMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  add(run: RunContext): void {
    this.runs.set(run.runId, run);
  }
  delete(run: RunContext): void {
    this.runs.delete(run.runId);
  }
  get size(): number {
    return this.runs.size;
  }
  all(): RunContext[] {
    return [...this.runs.values()];
  }

  private onControl(raw: string): void {
    let msg: ControlMessage;
    try {
      msg = JSON.parse(raw) as ControlMessage;
    } catch {
      this.logger.warn({ raw: raw.slice(0, 200) }, "bad control message");
      return;
    }
    const run = msg.runId ? this.runs.get(msg.runId) : undefined;
    if (!run) return;
    if (msg.type === "cancel") run.notifyCancel();
    else if (msg.type === "answer" && msg.questionId) run.notifyAnswer(msg.questionId);
  }

  private async poll(): Promise<void> {
    const now = Date.now();
    for (const run of this.runs.values()) {
      if (run.signal.aborted) continue;
      const idleMs = now - run.lastEventAt;
      if (!run.waitingForUser && idleMs > this.stallTimeoutMs) {
        run.stall(idleMs);
        continue;
      }
      try {
        if (await this.tasks.isCancelRequested(run.taskId, run.runId)) run.notifyCancel();
      } catch (err) {
        this.logger.debug({ err, runId: run.runId }, "cancel poll failed");
      }
    }
  }
}
