import type { EventData } from "@agentcast/protocol";
import { type EventLog, type RunJobData, StaleRunError } from "@agentcast/store";
import { type Agent, AgentFailure, RunCancelled } from "../agents/agent.js";
import type { ActiveRuns } from "../control/active-runs.js";
import { RunContext, type RunContextDeps } from "./run-context.js";

export type RunOutcome = "succeeded" | "failed" | "cancelled" | "stalled" | "superseded";

export interface ExecuteRunDeps extends RunContextDeps {
  eventLog: EventLog;
}

/**
 * Executes one run: agent_started, the agent, then exactly one terminal event — after closing any
 * tool call the agent left open. Cancels end in `agent_completed { status: "cancelled" }`; agent
 * failures in `agent_error`.
 */
export async function executeRun(job: RunJobData, agent: Agent, active: ActiveRuns, deps: ExecuteRunDeps): Promise<RunOutcome> {
  const ctx = new RunContext(job, deps);
  const log = deps.logger.child({ taskId: job.taskId, runId: job.runId });
  const task = await deps.tasks.getTask(job.taskId);
  if (task?.runId !== job.runId || (task.status !== "queued" && task.status !== "running")) {
    log.warn({ status: task?.status }, "run is not current or already ended; skipped");
    return "superseded";
  }
  if (task.status === "running") return endStalledRun(ctx, job, deps, log);
  active.add(ctx);
  try {
    await ctx.emit("agent_started", { input: job.text });
    log.info({ agent: agent.name }, "run started");
    if (await deps.tasks.isCancelRequested(job.taskId, job.runId)) ctx.notifyCancel();
    let terminal: { type: "agent_completed"; data: EventData<"agent_completed"> } | { type: "agent_error"; data: EventData<"agent_error"> };
    try {
      if (ctx.signal.aborted) throw new RunCancelled();
      const { result } = await agent.run(ctx);
      terminal = { type: "agent_completed", data: { status: "succeeded", ...(result === undefined ? {} : { result }) } };
    } catch (err) {
      if (err instanceof StaleRunError) throw err;
      if (ctx.signal.aborted || err instanceof RunCancelled) {
        terminal = { type: "agent_completed", data: { status: "cancelled" } };
      } else if (err instanceof AgentFailure) {
        terminal = { type: "agent_error", data: { code: err.code, message: err.message, retryable: err.retryable } };
      } else {
        log.error({ err }, "agent threw");
        const message = err instanceof Error ? err.message : String(err);
        terminal = { type: "agent_error", data: { code: "agent_failed", message, retryable: false } };
      }
    }
    const outcome = terminal.type === "agent_error" ? "failed" : terminal.data.status;
    await ctx.closeOpenTools(outcome === "cancelled" ? "cancelled" : "run ended before the tool completed");
    if (terminal.type === "agent_completed") await ctx.emit("agent_completed", terminal.data);
    else await ctx.emit("agent_error", terminal.data);
    log.info({ outcome }, "run ended");
    return outcome;
  } catch (err) {
    if (err instanceof StaleRunError) {
      log.warn({ reason: err.reason }, "run is no longer current; stopped");
      return "superseded";
    }
    throw err;
  } finally {
    active.delete(ctx);
  }
}

/**
 * The run already started on a worker that died (BullMQ re-queued its stalled job). Its events so
 * far stand; replaying the agent would duplicate them, so the run is ended: open tool calls are
 * closed, then `agent_error { code: "run_stalled", retryable: true }`.
 */
async function endStalledRun(ctx: RunContext, job: RunJobData, deps: ExecuteRunDeps, log: RunContextDeps["logger"]): Promise<RunOutcome> {
  ctx.restore(await deps.eventLog.readRun(job.taskId, job.runId));
  try {
    await ctx.closeOpenTools("the worker running this tool stopped");
    await ctx.emit("agent_error", {
      code: "run_stalled",
      message: "The worker running this task stopped; the run was ended",
      retryable: true,
    });
  } catch (err) {
    if (err instanceof StaleRunError) return "superseded";
    throw err;
  }
  log.warn("stalled run taken over and ended with run_stalled");
  return "stalled";
}
