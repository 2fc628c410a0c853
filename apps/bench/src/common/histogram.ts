/** Latency histogram in 0.1 ms buckets up to 20 s (beyond that: the last bucket), mergeable across processes. */
const BUCKET_US = 100;
const BUCKETS = 200_000;

export type SparseHistogram = [bucket: number, count: number][];

export class LatencyHistogram {
  private counts = new Uint32Array(BUCKETS);
  total = 0;
  maxUs = 0;

  record(latencyUs: number): void {
    const us = Math.max(latencyUs, 0);
    const b = Math.min(BUCKETS - 1, Math.floor(us / BUCKET_US));
    this.counts[b] = (this.counts[b] ?? 0) + 1;
    this.total++;
    if (us > this.maxUs) this.maxUs = us;
  }

  reset(): void {
    this.counts.fill(0);
    this.total = 0;
    this.maxUs = 0;
  }

  toSparse(): SparseHistogram {
    const out: SparseHistogram = [];
    for (let i = 0; i < BUCKETS; i++) {
      const c = this.counts[i] ?? 0;
      if (c > 0) out.push([i, c]);
    }
    return out;
  }

  merge(sparse: SparseHistogram, maxUs: number): void {
    for (const [b, c] of sparse) {
      this.counts[b] = (this.counts[b] ?? 0) + c;
      this.total += c;
    }
    if (maxUs > this.maxUs) this.maxUs = maxUs;
  }

  /** The q-quantile in milliseconds (upper edge of its bucket); NaN when empty. */
  quantileMs(q: number): number {
    if (this.total === 0) return Number.NaN;
    const rank = Math.ceil(q * this.total);
    let seen = 0;
    for (let i = 0; i < BUCKETS; i++) {
      seen += this.counts[i] ?? 0;
      if (seen >= rank) return ((i + 1) * BUCKET_US) / 1000;
    }
    return this.maxUs / 1000;
  }
}
