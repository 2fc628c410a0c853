/** A gap a stream saw: `gotSeq` arrived while `expectedSeq` was missing. */
export interface Gap {
  expectedSeq: number;
  gotSeq: number;
}

/**
 * Re-reads tasks from history, one at a time per task: a request while a re-read of that task is
 * running makes it run once more afterwards (from the stream's position then), so requests that
 * pile up (a gap, then held events dropped) cost at most one more round.
 */
export class Resyncs {
  private readonly running = new Map<string, { again: boolean; gap: Gap | undefined }>();

  /** `step` re-reads one task once (reporting `gap` first when given); it must not throw. */
  constructor(private readonly step: (taskId: string, gap: Gap | undefined) => Promise<void>) {}

  async request(taskId: string, gap?: Gap): Promise<void> {
    const current = this.running.get(taskId);
    if (current) {
      current.again = true;
      current.gap ??= gap;
      return;
    }
    const state = { again: true, gap };
    this.running.set(taskId, state);
    try {
      while (state.again) {
        state.again = false;
        const pending = state.gap;
        state.gap = undefined;
        await this.step(taskId, pending);
      }
    } finally {
      this.running.delete(taskId);
    }
  }
}
