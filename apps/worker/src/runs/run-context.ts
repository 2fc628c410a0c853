import { type EventData, type EventEnvelope, type EventType, RunRules } from "@agentcast/protocol";
import type { SilentFailure } from "@agentcast/runtime";
import { type EventPublisher, newQuestionId, type RunJobData, StaleRunError, type TaskStore } from "@agentcast/store";
import type { Logger } from "pino";
import { type AgentContext, RunCancelled, RunStalled, WorkerShutdown } from "../agents/agent.js";

/** An agent tried to publish an event that breaks the run rules; it was not sent. */
export class InvalidEventError extends Error {
  override name = "InvalidEventError";
}

/** What the run reports to metrics. */
export interface RunObserver {
  published(type: EventType): void;
  toolFinished(tool: string, durationMs: number): void;
  silentFailure(kind: SilentFailure): void;
  runEnded(outcome: string, durationMs: number): void;
}

export interface RunContextDeps {
  publisher: EventPublisher;
  tasks: TaskStore;
  logger: Logger;
  /** How often to poll Redis for an answer, in case a control message was missed. */
  pollIntervalMs: number;
  observer: RunObserver;
}

/**
 * One run as its agent sees it. Every event goes through RunRules before it is published, so a
 * run on the wire always obeys the protocol; cancel, answers and the watchdog arrive through
 * `notifyCancel`, `notifyAnswer` and `stall`.
 */
export class RunContext implements AgentContext {
  readonly input: string;
  readonly taskId: string;
  readonly runId: string;
  readonly userId: string;
  readonly log: Logger;
  /** When the last event was published (the watchdog's clock). */
  lastEventAt = Date.now();
  /** True while the run waits for the user: no events are expected then. */
  waitingForUser = false;
  private readonly controller = new AbortController();
  private readonly rules = new RunRules();
  private readonly toolStarts = new Map<string, number>();
  private readonly answerWaiters = new Map<string, () => void>();
  private toolCalls = 0;

  constructor(
    job: RunJobData,
    private readonly deps: RunContextDeps,
  ) {
    this.input = job.text;
    this.taskId = job.taskId;
    this.runId = job.runId;
    this.userId = job.userId;
    this.log = deps.logger.child({ taskId: job.taskId, runId: job.runId });
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  /** The user cancelled: agent calls from now on throw RunCancelled. */
  notifyCancel(): void {
    if (!this.controller.signal.aborted) this.controller.abort(new RunCancelled());
  }

  /** The watchdog gave up on the run. */
  stall(idleMs: number): void {
    if (!this.controller.signal.aborted) this.controller.abort(new RunStalled(idleMs));
  }

  /** The worker's drain deadline passed: end the run so it can be re-queued. */
  shutdown(): void {
    if (!this.controller.signal.aborted) this.controller.abort(new WorkerShutdown());
  }

  /** An answer to `questionId` is stored in Redis. */
  notifyAnswer(questionId: string): void {
    this.answerWaiters.get(questionId)?.();
  }

  /** Publishes one event after checking it against the run rules. */
  async emit<T extends EventType>(type: T, data: EventData<T>): Promise<void> {
    const why = this.rules.check(type, data);
    if (why) {
      this.deps.observer.silentFailure("invalid_event");
      this.log.error({ type, reason: why }, "agent produced an invalid event; not sent");
      throw new InvalidEventError(why);
    }
    let receivers: number;
    let duplicate: boolean;
    try {
      ({ receivers, duplicate } = await this.deps.publisher.publish({
        taskId: this.taskId,
        runId: this.runId,
        userId: this.userId,
        type,
        data,
      }));
    } catch (err) {
      if (!(err instanceof StaleRunError)) {
        this.deps.observer.silentFailure("publish_failed");
        this.log.error({ err, type }, "event could not be published");
      }
      throw err;
    }
    this.rules.apply(type, data);
    this.lastEventAt = Date.now();
    this.deps.observer.published(type);
    if (receivers === 0 && !duplicate) {
      this.deps.observer.silentFailure("unrouted_event");
      this.log.debug({ type }, "event published while no gateway held the task room");
    }
  }

  /** Replays already-published events of this run into the rules (a run taken over after a crash). */
  restore(events: readonly EventEnvelope[]): void {
    for (const e of events) if (this.rules.check(e.type, e.data) === null) this.rules.apply(e.type, e.data);
  }

  /** Closes tool calls left open with ok:false; unless the user cancelled, each counts as unpaired_tool_call. */
  async closeOpenTools(reason: string, unpaired: boolean): Promise<void> {
    for (const [toolCallId, tool] of this.rules.openToolCalls) {
      const durationMs = Date.now() - (this.toolStarts.get(toolCallId) ?? Date.now());
      if (unpaired) {
        this.deps.observer.silentFailure("unpaired_tool_call");
        this.log.warn({ toolCallId, tool, reason }, "closing a tool call that never completed");
      }
      await this.emit("tool_completed", { toolCallId, tool, ok: false, error: reason, durationMs });
    }
  }

  private live(): void {
    if (this.controller.signal.aborted) throw this.controller.signal.reason;
  }

  async thinking(text: string): Promise<void> {
    this.live();
    await this.emit("agent_thinking", { text });
  }

  async progress(percent: number, message: string): Promise<void> {
    this.live();
    await this.emit("progress_update", { percent, message });
  }

  async output(delta: string): Promise<void> {
    this.live();
    await this.emit("agent_output", { delta });
  }

  async tool<T>(tool: string, args: Record<string, unknown>, fn: () => Promise<T> | T): Promise<T> {
    this.live();
    const toolCallId = `tc_${++this.toolCalls}`;
    await this.emit("tool_executing", { toolCallId, tool, args });
    const started = Date.now();
    this.toolStarts.set(toolCallId, started);
    let value: T;
    try {
      value = await fn();
    } catch (err) {
      this.live(); // cancelled or stalled: the executor closes the call
      const error = err instanceof Error ? err.message : String(err);
      this.deps.observer.toolFinished(tool, Date.now() - started);
      await this.emit("tool_completed", { toolCallId, tool, ok: false, error, durationMs: Date.now() - started });
      throw err;
    }
    this.deps.observer.toolFinished(tool, Date.now() - started);
    await this.emit("tool_completed", { toolCallId, tool, ok: true, result: value, durationMs: Date.now() - started });
    return value;
  }

  async ask(prompt: string): Promise<string> {
    this.live();
    const questionId = newQuestionId();
    let wake = () => {};
    this.answerWaiters.set(questionId, () => wake());
    try {
      await this.emit("agent_question", { questionId, prompt });
      this.waitingForUser = true;
      for (;;) {
        const woken = new Promise<void>((resolve) => {
          wake = resolve;
        });
        const answer = await this.deps.tasks.consumeAnswer(this.taskId, questionId);
        if (answer !== undefined) return answer;
        await Promise.race([woken, this.sleep(this.deps.pollIntervalMs)]);
      }
    } finally {
      this.waitingForUser = false;
      this.lastEventAt = Date.now();
      this.answerWaiters.delete(questionId);
    }
  }

  sleep(ms: number): Promise<void> {
    const signal = this.controller.signal;
    if (signal.aborted) return Promise.reject(signal.reason);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        signal.removeEventListener("abort", onAbort);
        resolve();
      }, ms);
      const onAbort = () => {
        clearTimeout(timer);
        reject(signal.reason);
      };
      signal.addEventListener("abort", onAbort, { once: true });
    });
  }
}
