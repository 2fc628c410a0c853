/**
 * Why the publish script (or a takeover) refused a run's event; nothing was published:
 * - `superseded`: the run is not the task's current run;
 * - `ended`: the run has already ended;
 * - `already_started`: agent_started for a run that is already running (another execution started it);
 * - `fenced`: another execution owns the run (it was taken over after this one lost its job);
 * - `out_of_order`: the event's index is not the run's next one (or an event before agent_started);
 * - `not_started`: a takeover of a run that is still queued.
 */
export type StaleRunReason = "superseded" | "ended" | "already_started" | "fenced" | "out_of_order" | "not_started";

/** The run may not publish this event (see StaleRunReason): nothing was published. */
export class StaleRunError extends Error {
  constructor(
    readonly reason: StaleRunReason,
    readonly taskId: string,
    readonly runId: string,
    /** `out_of_order` from the publish script: the index the run expects next (behind the sender's after a failover lost events). */
    readonly expectedIndex?: number,
  ) {
    super(`run ${runId} of task ${taskId}: ${reason.replaceAll("_", " ")}; event not published`);
    this.name = "StaleRunError";
  }
}

/** The script's refusal codes (see lua/publish-events-n.lua, lua/claim-run-1.lua). */
const REFUSALS: Readonly<Record<number, StaleRunReason>> = {
  [-1]: "superseded",
  [-2]: "ended",
  [-4]: "already_started",
  [-5]: "fenced",
  [-6]: "out_of_order",
  [-7]: "not_started",
};

/** The reason behind a negative script reply, or undefined for a seq / index. */
export function refusalOf(code: number): StaleRunReason | undefined {
  return code < 0 ? (REFUSALS[code] ?? "out_of_order") : undefined;
}
