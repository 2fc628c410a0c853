import { describe, expect, it } from "vitest";
import { KeyedBuckets, TokenBucket } from "./token-bucket.js";

describe("TokenBucket", () => {
  it("allows a burst, then the sustained rate, and says how long to wait", () => {
    const b = new TokenBucket(10, 3, 0);
    expect([b.take(0), b.take(0), b.take(0)]).toEqual([0, 0, 0]);
    expect(b.take(0)).toBe(100);
    expect(b.take(50)).toBe(50);
    expect(b.take(100)).toBe(0);
    expect(b.isIdle(1_000)).toBe(true);
  });

  it("keys are independent and idle ones are forgotten", () => {
    const k = new KeyedBuckets(1, 1);
    expect(k.take("a", 0)).toBe(0);
    expect(k.take("a", 0)).toBeGreaterThan(0);
    expect(k.take("b", 0)).toBe(0);
    expect(k.take("c", 20_000)).toBe(0);
    expect(k.size).toBe(1);
  });
});
