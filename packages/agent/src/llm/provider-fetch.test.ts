import { describe, expect, it } from "vitest";
import { retryAfterMs, retryDelayMs } from "./provider-fetch.js";

describe("provider retries", () => {
  it("Retry-After: seconds or an HTTP date; anything else is not used", () => {
    const now = Date.parse("2026-12-05T10:00:00Z");
    expect(retryAfterMs("2", now)).toBe(2_000);
    expect(retryAfterMs("Sat, 05 Dec 2026 10:00:03 GMT", now)).toBe(3_000);
    expect(retryAfterMs("soon", now)).toBeUndefined();
    expect(retryAfterMs(null, now)).toBeUndefined();
  });

  it("waits: Retry-After (jittered by at most 250 ms), else exponential from 500 ms with jitter; never over 10 s", () => {
    expect(retryDelayMs(0, 1_000, 10_000, () => 0)).toBe(1_000);
    expect(retryDelayMs(0, 1_000, 10_000, () => 1)).toBe(1_250);
    expect(retryDelayMs(0, 60_000, 10_000, () => 0.5)).toBe(10_000);
    expect(retryDelayMs(0, undefined, 10_000, () => 0)).toBe(250);
    expect(retryDelayMs(0, undefined, 10_000, () => 1)).toBe(500);
    expect(retryDelayMs(3, undefined, 10_000, () => 1)).toBe(4_000);
    expect(retryDelayMs(10, undefined, 10_000, () => 1)).toBe(10_000);
  });
});
