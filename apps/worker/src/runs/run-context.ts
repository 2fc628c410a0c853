import { type EventData, type EventEnvelope, type EventType, RunRules } from "@agentcast/protocol";
import { type EventPublisher, newQuestionId, type RunJobData, type TaskStore } from "@agentcast/store";
import type { Logger } from "pino";
import { type AgentContext, RunCancelled } from "../agents/agent.js";

/** An agent tried to publish an event that breaks the run rules; it was not sent. */
export class InvalidEventError extends Error {
  override name = "InvalidEventError";
}

export interface RunContextDeps {
  publisher: EventPublisher;
  tasks: TaskStore;
  logger: Logger;
  /** How often to poll Redis for a cancel or an answer, in case a control message was missed. */
  pollIntervalMs: number;
  onPublished?: (type: EventType, receivers: number) => void;
  onInvalidEvent?: (type: string, reason: string) => void;
}

/**
 * One run as its agent sees it. Every event goes through RunRules before it is published, so a
 * run on the wire always obeys the protocol; cancel and answers arrive through `notify*`.
 */
export class RunContext implements AgentContext {
  readonly input: string;
  readonly taskId: string;
  readonly runId: string;
  readonly userId: string;
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
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }
  get ended(): boolean {
    return this.rules.isEnded;
  }

  /** The user cancelled: agent calls from now on throw RunCancelled. */
  notifyCancel(): void {
    if (!this.controller.signal.aborted) this.controller.abort(new RunCancelled());
  }

  /** An answer to `questionId` is stored in Redis. */
  notifyAnswer(questionId: string): void {
    this.answerWaiters.get(questionId)?.();
  }

  /** Publishes one event after checking it against the run rules. */
  async emit<T extends EventType>(type: T, data: EventData<T>): Promise<void> {
    const why = this.rules.check(type, data);
    if (why) {
      this.deps.onInvalidEvent?.(type, why);
      this.deps.logger.error({ type, reason: why }, "agent produced an invalid event; not sent");
      throw new InvalidEventError(why);
    }
    const { receivers } = await this.deps.publisher.publish({ taskId: this.taskId, runId: this.runId, userId: this.userId, type, data });
    this.rules.apply(type, data);
    this.deps.onPublished?.(type, receivers);
  }

  /** Replays already-published events of this run into the rules (a run taken over after a crash). */
  restore(events: readonly EventEnvelope[]): void {
    for (const e of events) if (this.rules.check(e.type, e.data) === null) this.rules.apply(e.type, e.data);
  }

  /** Closes tool calls left open (cancel or failure mid-tool) with ok:false. */
  async closeOpenTools(reason: string): Promise<void> {
    for (const [toolCallId, tool] of this.rules.openToolCalls) {
      const durationMs = Date.now() - (this.toolStarts.get(toolCallId) ?? Date.now());
      await this.emit("tool_completed", { toolCallId, tool, ok: false, error: reason, durationMs });
    }
  }

  private live(): void {
    if (this.controller.signal.aborted) throw new RunCancelled();
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
      if (this.controller.signal.aborted) throw new RunCancelled(); // the executor closes the call
      const error = err instanceof Error ? err.message : String(err);
      await this.emit("tool_completed", { toolCallId, tool, ok: false, error, durationMs: Date.now() - started });
      throw err;
    }
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
      for (;;) {
        const woken = new Promise<void>((resolve) => {
          wake = resolve;
        });
        const answer = await this.deps.tasks.getAnswer(this.taskId, questionId);
        if (answer !== undefined) return answer;
        await Promise.race([woken, this.sleep(this.deps.pollIntervalMs)]);
      }
    } finally {
      this.answerWaiters.delete(questionId);
    }
  }

  sleep(ms: number): Promise<void> {
    const signal = this.controller.signal;
    if (signal.aborted) return Promise.reject(new RunCancelled());
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        signal.removeEventListener("abort", onAbort);
        resolve();
      }, ms);
      const onAbort = () => {
        clearTimeout(timer);
        reject(new RunCancelled());
      };
      signal.addEventListener("abort", onAbort, { once: true });
    });
  }
}
