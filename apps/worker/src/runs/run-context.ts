import type { EventData, EventEnvelope, EventType } from "@agentcast/protocol";
import { newQuestionId, type RunJobData, type StoredTurn } from "@agentcast/store";
import type { Logger } from "pino";
import { type AgentContext, type ConversationTurn, RunCancelled, RunEnded, RunStalled, WorkerShutdown } from "../agents/agent.js";
import { type CoalesceOptions, DeltaCoalescer, type DeltaType, type PendingDelta } from "./delta-coalescer.js";
import { RunEvents, type RunEventsDeps } from "./run-events.js";

export { InvalidEventError, type RunObserver } from "./run-events.js";

export interface RunContextDeps extends RunEventsDeps {
  logger: Logger;
  /** How often to poll Redis for an answer, in case a control message was missed. */
  pollIntervalMs: number;
  /** Merging of streamed deltas (OUTPUT_COALESCE_MS, OUTPUT_COALESCE_MAX_BYTES); absent = off. */
  coalesce?: CoalesceOptions;
  /** Characters of the answer kept for the run's conversation turn (CONVERSATION_MAX_ANSWER_CHARS). */
  maxAnswerChars?: number;
}

/** How a run ends: its terminal event, and what to say when closing tool calls left open. */
export interface RunEnding {
  terminal: { type: "agent_completed"; data: EventData<"agent_completed"> } | { type: "agent_error"; data: EventData<"agent_error"> };
  /** `error` of the `tool_completed { ok: false }` that closes each open tool call. */
  closeReason: string;
  /** Count each closed call as unpaired_tool_call (not when the user cancelled). */
  unpaired: boolean;
}

/**
 * One run as its agent sees it. Every event goes through the run's serial queue (RunEvents): the run
 * rules are checked, the event published and the rules applied in one step, so a run on the wire
 * always obeys the protocol. An agent's event is published only while the run is live (not cancelled,
 * stalled, shut down or ended), checked inside that step; cancel, answers and the watchdog arrive
 * through `notifyCancel`, `notifyAnswer` and `stall`.
 */
export class RunContext implements AgentContext {
  readonly input: string;
  readonly taskId: string;
  readonly runId: string;
  readonly userId: string;
  readonly log: Logger;
  /** True while the run waits for the user: no events are expected then. */
  waitingForUser = false;
  /** The task's earlier runs (set before the agent runs). */
  conversation: readonly ConversationTurn[] = [];
  private readonly controller = new AbortController();
  private readonly events: RunEvents;
  private readonly answerWaiters = new Map<string, () => void>();
  private readonly deltas: DeltaCoalescer;
  private toolCalls = 0;
  /** Characters of output the agent produced (accepted by `output`), reported when the run is cancelled. */
  private outputCharCount = 0;
  /** The answer as streamed, up to maxAnswerChars (for the conversation turn). */
  private answer = "";
  private readonly questions: { prompt: string; answer: string }[] = [];

  constructor(
    job: RunJobData,
    private readonly deps: RunContextDeps,
  ) {
    this.input = job.text;
    this.taskId = job.taskId;
    this.runId = job.runId;
    this.userId = job.userId;
    this.log = deps.logger.child({ taskId: job.taskId, runId: job.runId });
    this.events = new RunEvents({ taskId: job.taskId, runId: job.runId, userId: job.userId }, deps, this.log);
    this.deltas = new DeltaCoalescer(deps.coalesce ?? { windowMs: 0, maxBytes: 0 }, (taken) =>
      this.events.serial(() => this.publishDeltas(taken ?? this.deltas.take())),
    );
  }

  /** Characters the agent passed to `output` so far (all of them are published by the time the run ends). */
  get outputChars(): number {
    return this.outputCharCount;
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  /** When the last event was published (the watchdog's clock). */
  get lastEventAt(): number {
    return this.events.lastEventAt;
  }

  /** This run as a conversation turn: its input, the answer it streamed, its questions and how it ended. */
  turn(status: StoredTurn["status"]): StoredTurn {
    return { runId: this.runId, input: this.input, answer: this.answer, status, questions: [...this.questions] };
  }

  /** The user cancelled: agent calls from now on throw RunCancelled. */
  notifyCancel(): void {
    this.abort(new RunCancelled());
  }

  /** The watchdog gave up on the run. */
  stall(idleMs: number): void {
    this.abort(new RunStalled(idleMs));
  }

  /** The worker's drain deadline passed: end the run so it can be re-queued. */
  shutdown(): void {
    this.abort(new WorkerShutdown());
  }

  /** An answer to `questionId` is stored in Redis. */
  notifyAnswer(questionId: string): void {
    this.answerWaiters.get(questionId)?.();
  }

  /** Publishes agent_started (index 0): the script accepts it only while the run is queued. */
  start(): Promise<void> {
    return this.events.serial(() => this.events.publish("agent_started", { input: this.input }));
  }

  /**
   * Takes over a run whose worker stopped: becomes its owner (the previous execution is fenced off),
   * restores its rules from its retained events and continues at its next index.
   */
  takeOver(readEvents: () => Promise<readonly EventEnvelope[]>): Promise<void> {
    return this.events.serial(() => this.events.takeOver(readEvents));
  }

  /**
   * Ends the run in one step of the serial queue: from here on the agent's calls are refused; the tool
   * calls open at this moment are closed (`ok: false`), then the terminal event is published.
   */
  end(ending: RunEnding): Promise<void> {
    return this.events.serial(async () => {
      this.abort(new RunEnded());
      // What the agent streamed before the end goes out before it (nothing can be added from here on).
      await this.publishDeltas(this.deltas.take());
      this.deltas.close();
      for (const [toolCallId, tool, startedAt] of this.events.openToolCalls) {
        if (ending.unpaired) {
          this.deps.observer.silentFailure("unpaired_tool_call");
          this.log.warn({ toolCallId, tool, reason: ending.closeReason }, "closing a tool call that never completed");
        }
        const durationMs = Date.now() - startedAt;
        await this.events.publish("tool_completed", { toolCallId, tool, ok: false, error: ending.closeReason, durationMs });
      }
      await this.events.publish(ending.terminal.type, ending.terminal.data);
    });
  }

  /**
   * An agent's event: published in the serial queue, only if the run is still live at that point. The
   * deltas pending when it was called go out first, in the same step (they were produced before it).
   */
  private emit<T extends EventType>(type: T, data: EventData<T> | (() => EventData<T>)): Promise<void> {
    const pending = this.deltas.take();
    return this.events.serial(async () => {
      await this.publishDeltas(pending);
      this.live();
      await this.events.publish(type, typeof data === "function" ? data() : data);
    });
  }

  /** Call inside a step: publishes merged deltas (produced while the run was live, so not checked again). */
  private async publishDeltas(pending: PendingDelta | undefined): Promise<void> {
    if (!pending || pending.text === "") return;
    if (pending.type === "agent_output") await this.events.publish("agent_output", { delta: pending.text });
    else await this.events.publish("agent_thinking", { delta: pending.text });
  }

  /** A streamed delta: merged with its neighbours when coalescing is on, else one event each. */
  private async stream(type: DeltaType, delta: string): Promise<void> {
    this.live();
    if (type === "agent_output") {
      this.outputCharCount += delta.length;
      const room = (this.deps.maxAnswerChars ?? 65_536) + 1 - this.answer.length;
      if (room > 0) this.answer += delta.length <= room ? delta : delta.slice(0, room);
    }
    if (!this.deltas.enabled) return this.emit(type, { delta } as EventData<DeltaType>);
    await this.deltas.add(type, delta);
  }

  private abort(reason: Error): void {
    if (!this.controller.signal.aborted) this.controller.abort(reason);
  }

  private live(): void {
    if (this.controller.signal.aborted) throw this.controller.signal.reason;
  }

  thinking(text: string): Promise<void> {
    return this.emit("agent_thinking", { text });
  }

  thinkingDelta(delta: string): Promise<void> {
    return this.stream("agent_thinking", delta);
  }

  progress(percent: number, message: string): Promise<void> {
    return this.emit("progress_update", { percent, message });
  }

  output(delta: string): Promise<void> {
    return this.stream("agent_output", delta);
  }

  async tool<T>(tool: string, args: Record<string, unknown>, fn: () => Promise<T> | T): Promise<T> {
    this.live();
    const toolCallId = `tc_${++this.toolCalls}`;
    await this.emit("tool_executing", { toolCallId, tool, args });
    const started = Date.now();
    let value: T;
    try {
      value = await fn();
    } catch (err) {
      this.deps.observer.toolFinished(tool, Date.now() - started);
      const error = err instanceof Error ? err.message : String(err);
      // Not live any more (cancelled, stalled, ended): refused, the run's end closes the call.
      await this.emit("tool_completed", () => ({ toolCallId, tool, ok: false, error, durationMs: Date.now() - started }));
      throw err;
    }
    this.deps.observer.toolFinished(tool, Date.now() - started);
    // The success path too: only if the run is still live when its turn comes.
    await this.emit("tool_completed", () => ({ toolCallId, tool, ok: true, result: value, durationMs: Date.now() - started }));
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
        if (answer !== undefined) {
          this.questions.push({ prompt, answer });
          return answer;
        }
        await Promise.race([woken, this.sleep(this.deps.pollIntervalMs)]);
      }
    } finally {
      this.waitingForUser = false;
      this.events.lastEventAt = Date.now();
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
