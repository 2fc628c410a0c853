import type { EventData } from "@agentcast/protocol";
import { type RunJobData, StaleRunError } from "@agentcast/store";
import { type Agent, AgentFailure, RunCancelled } from "../agents/agent.js";
import type { ActiveRuns } from "../control/active-runs.js";
import { RunContext, type RunContextDeps } from "./run-context.js";

export type RunOutcome = "succeeded" | "failed" | "cancelled" | "superseded";

/**
 * Executes one run: agent_started, the agent, then exactly one terminal event — after closing any
 * tool call the agent left open. Cancels end in `agent_completed { status: "cancelled" }`; agent
 * failures in `agent_error`.
 */
export async function executeRun(job: RunJobData, agent: Agent, active: ActiveRuns, deps: RunContextDeps): Promise<RunOutcome> {
  const ctx = new RunContext(job, deps);
  const log = deps.logger.child({ taskId: job.taskId, runId: job.runId });
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
