/** Everything the soak counts; printed as the summary and written as JSON. */
export interface SoakStats {
  runs: Record<string, number>;
  eventsReceived: number;
  /** Events in a run's history that a client following the run to its end never received. */
  lost: number;
  duplicates: number;
  outOfOrder: number;
  /** Runs that did not end within the per-run deadline. */
  stalled: number;
  connections: number;
  resumes: number;
  commandErrors: Record<string, number>;
  badFrames: number;
  /** Bad frames answered with a coded error (each one must be). */
  badFramesAnswered: number;
  badFrameCodes: Record<string, number>;
}

export const newStats = (): SoakStats => ({
  runs: {},
  eventsReceived: 0,
  lost: 0,
  duplicates: 0,
  outOfOrder: 0,
  stalled: 0,
  connections: 0,
  resumes: 0,
  commandErrors: {},
  badFrames: 0,
  badFramesAnswered: 0,
  badFrameCodes: {},
});

export const bump = (counts: Record<string, number>, key: string, by = 1) => {
  counts[key] = (counts[key] ?? 0) + by;
};
