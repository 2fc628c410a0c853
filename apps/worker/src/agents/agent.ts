// The agent API lives in @agentcast/agent (what teams install to write agents); the worker's own
// reasons a run stops are below.
export { type Agent, type AgentContext, AgentFailure, type AgentResult, type ConversationTurn } from "@agentcast/agent";

/** The run was cancelled by its user. */
export class RunCancelled extends Error {
  constructor() {
    super("run cancelled");
    this.name = "RunCancelled";
  }
}

/** The worker is shutting down and its drain deadline passed. */
export class WorkerShutdown extends Error {
  constructor() {
    super("worker shutting down");
    this.name = "WorkerShutdown";
  }
}

/** The run has ended (its terminal event is published): an agent call made after that is refused. */
export class RunEnded extends Error {
  constructor() {
    super("run ended");
    this.name = "RunEnded";
  }
}

/** The watchdog ended the run: no event for longer than the stall timeout. */
export class RunStalled extends Error {
  constructor(readonly idleMs: number) {
    super(`no event for ${idleMs} ms`);
    this.name = "RunStalled";
  }
}
