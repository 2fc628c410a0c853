import { type ConversationBounds, type ConversationStore, type EventLog, type RunJobData, StaleRunError } from "@agentcast/store";
import { type Agent, AgentFailure, RunCancelled, RunStalled, WorkerShutdown } from "../agents/agent.js";
import type { ActiveRuns } from "../control/active-runs.js";
import { RunContext, type RunContextDeps, type RunEnding } from "./run-context.js";

export type RunOutcome = "succeeded" | "failed" | "cancelled" | "stalled" | "shutdown" | "superseded";

export interface ExecuteRunDeps extends RunContextDeps {
  eventLog: EventLog;
  /** The tasks' conversations: read before the agent runs (ctx.conversation), a turn added before the terminal event. */
  conversations: ConversationStore;
  conversationBounds: ConversationBounds;
  /** Queues a fresh run of the same task and input (after a worker_shutdown). */
  requeue: (job: RunJobData) => Promise<void>;
}

type Terminal = RunEnding["terminal"];

/**
 * Executes one run: agent_started, the agent, then exactly one terminal event — after closing the tool
 * calls open at that moment, in one step of the run's serial queue (RunContext.end). Cancel →
 * `agent_completed { status: "cancelled" }`; the watchdog → `agent_error { code: "run_stalled" }`; an
 * agent failure → `agent_error`. A hung agent cannot hold the run: the agent's promise races the run's
 * abort signal.
 */
export async function executeRun(
  job: RunJobData,
  jobId: string,
  agent: Agent,
  active: ActiveRuns,
  deps: ExecuteRunDeps,
): Promise<RunOutcome> {
  const ctx = new RunContext(job, { ...deps, logger: deps.logger.child({ jobId }) });
  const startedAt = Date.now();
  const task = await deps.tasks.getTask(job.taskId);
  if (task?.runId !== job.runId || (task.status !== "queued" && task.status !== "running")) {
    ctx.log.warn({ status: task?.status }, "run is not current or already ended; skipped");
    deps.observer.runEnded("superseded", 0);
    return "superseded";
  }
  if (task.status === "running") return endStalledRun(ctx, job, deps);
  active.add(ctx);
  try {
    await ctx.start();
    ctx.log.info({ agent: agent.name }, "run started");
    if (await deps.tasks.isCancelRequested(job.taskId, job.runId)) ctx.notifyCancel();
    ctx.conversation = await deps.conversations.turns(job.taskId);
    const terminal = await runAgent(agent, ctx);
    const outcome = outcomeOf(terminal);
    // Before the terminal event: a follow-up can only start after it, and must find this turn.
    if (outcome !== "shutdown") await appendTurn(ctx, outcome === "succeeded" || outcome === "cancelled" ? outcome : "failed", deps);
    if (outcome === "stalled") deps.observer.silentFailure("stuck_run");
    const cancelled = outcome === "cancelled";
    await ctx.end({ terminal, closeReason: cancelled ? "cancelled" : "the run ended before the tool completed", unpaired: !cancelled });
    ctx.log.info({ outcome, durationMs: Date.now() - startedAt }, "run ended");
    deps.observer.runEnded(outcome, Date.now() - startedAt);
    if (outcome === "shutdown") await deps.requeue(job);
    return outcome;
  } catch (err) {
    if (err instanceof StaleRunError) return stopped(ctx, err, deps);
    throw err;
  } finally {
    active.delete(ctx);
  }
}

/** Runs the agent until it returns, throws, or the run is aborted (cancel / watchdog). */
async function runAgent(agent: Agent, ctx: RunContext): Promise<Terminal> {
  const aborted = new Promise<never>((_, reject) => {
    if (ctx.signal.aborted) reject(ctx.signal.reason);
    ctx.signal.addEventListener("abort", () => reject(ctx.signal.reason), { once: true });
  });
  const running = agent.run(ctx);
  running.catch(() => {}); // it may settle after the run was ended; that is not an unhandled rejection
  try {
    const { result } = await Promise.race([running, aborted]);
    return { type: "agent_completed", data: { status: "succeeded", ...(result === undefined ? {} : { result }) } };
  } catch (err) {
    if (err instanceof StaleRunError) throw err;
    const reason = ctx.signal.aborted ? ctx.signal.reason : err;
    // A cancelled run reports how much output it had produced: all of it is published before this event.
    if (reason instanceof RunCancelled)
      return { type: "agent_completed", data: { status: "cancelled", result: { outputChars: ctx.outputChars } } };
    if (reason instanceof WorkerShutdown) {
      return {
        type: "agent_error",
        data: { code: "worker_shutdown", message: "The worker shut down before the run finished; it was queued again", retryable: true },
      };
    }
    if (reason instanceof RunStalled) {
      ctx.log.warn({ idleMs: reason.idleMs }, "watchdog: run stalled");
      return {
        type: "agent_error",
        data: { code: "run_stalled", message: `The run produced no event for ${reason.idleMs} ms and was ended`, retryable: true },
      };
    }
    if (reason instanceof AgentFailure)
      return { type: "agent_error", data: { code: reason.code, message: reason.message, retryable: reason.retryable } };
    ctx.log.error({ err: reason }, "agent threw");
    return {
      type: "agent_error",
      data: { code: "agent_failed", message: reason instanceof Error ? reason.message : String(reason), retryable: false },
    };
  }
}

/** Adds the run to its task's conversation; a failure is counted and logged, never a reason to leave the run open. */
async function appendTurn(ctx: RunContext, status: "succeeded" | "failed" | "cancelled", deps: ExecuteRunDeps): Promise<void> {
  try {
    const dropped = await deps.conversations.append(ctx.taskId, ctx.turn(status), deps.conversationBounds);
    if (dropped > 0) ctx.log.info({ dropped }, "oldest conversation turns dropped (CONVERSATION_MAX_TURNS / CONVERSATION_MAX_BYTES)");
  } catch (err) {
    deps.observer.silentFailure("conversation_write_failed");
    ctx.log.error({ err }, "could not add the run to its task's conversation");
  }
}

function outcomeOf(terminal: Terminal): RunOutcome {
  if (terminal.type === "agent_completed") return terminal.data.status;
  if (terminal.data.code === "run_stalled") return "stalled";
  if (terminal.data.code === "worker_shutdown") return "shutdown";
  return "failed";
}

/**
 * The run already started on a worker that died or lost its job (BullMQ re-queued the stalled job). Its
 * events so far stand; replaying the agent would duplicate them, so the run is taken over (the previous
 * execution, should it still be alive, can publish nothing more) and ended: open tool calls are closed,
 * then `agent_error { code: "run_stalled", retryable: true }`.
 */
async function endStalledRun(ctx: RunContext, job: RunJobData, deps: ExecuteRunDeps): Promise<RunOutcome> {
  try {
    await ctx.takeOver(() => deps.eventLog.readRun(job.taskId, job.runId));
    deps.observer.silentFailure("stuck_run");
    await ctx.end({
      terminal: {
        type: "agent_error",
        data: { code: "run_stalled", message: "The worker running this task stopped; the run was ended", retryable: true },
      },
      closeReason: "the worker running this tool stopped",
      unpaired: true,
    });
  } catch (err) {
    if (err instanceof StaleRunError) return stopped(ctx, err, deps);
    throw err;
  }
  ctx.log.warn("stalled run taken over and ended with run_stalled");
  deps.observer.runEnded("stalled", 0);
  return "stalled";
}

/**
 * The publish script refused the run's event (StaleRunError): another execution owns or started the run,
 * or it is no longer current. Nothing more is published by this execution.
 */
function stopped(ctx: RunContext, err: StaleRunError, deps: ExecuteRunDeps): RunOutcome {
  ctx.log.warn({ reason: err.reason }, "run refused this execution's event; stopped");
  deps.observer.runEnded("superseded", 0);
  return "superseded";
}
