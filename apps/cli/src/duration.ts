const UNIT_MS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 };

/** "500ms", "30s", "2m", "1h" or plain seconds → milliseconds. */
export function parseDuration(text: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(text.trim());
  if (!m) throw new Error(`not a duration: ${text} (use e.g. 500ms, 30s, 2m, 1h)`);
  return Math.round(Number(m[1]) * (UNIT_MS[m[2] ?? "s"] ?? 1_000));
}
