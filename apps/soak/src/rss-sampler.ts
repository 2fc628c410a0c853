/** Samples each process's RSS from its /metrics, to show the trend over the soak. */
export interface RssTrend {
  name: string;
  samplesMb: number[];
  /** V8 heap in use at the same moments: a leak grows it; allocator slack only grows RSS. */
  heapUsedMb: number[];
}

export function sampleRss(targets: { name: string; metricsPort: number }[], everyMs: number) {
  const trends: RssTrend[] = targets.map((t) => ({ name: t.name, samplesMb: [], heapUsedMb: [] }));
  const sample = async () => {
    await Promise.all(
      targets.map(async (t, i) => {
        try {
          const text = await (await fetch(`http://127.0.0.1:${t.metricsPort}/metrics`)).text();
          const metric = (name: string) => Number(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, "m").exec(text)?.[1]);
          const rss = metric("process_resident_memory_bytes");
          const heap = metric("nodejs_heap_size_used_bytes");
          if (Number.isFinite(rss) && Number.isFinite(heap)) {
            trends[i]?.samplesMb.push(Math.round(rss / 1e5) / 10);
            trends[i]?.heapUsedMb.push(Math.round(heap / 1e5) / 10);
          }
        } catch {
          // a process being restarted: no sample this round
        }
      }),
    );
  };
  void sample();
  const timer = setInterval(() => void sample(), everyMs);
  return {
    trends,
    async stop() {
      clearInterval(timer);
      await sample();
    },
  };
}
