import { describe, expect, it } from "vitest";
import { parseDirectives } from "./demo-agent.js";
import { demoStreamText, demoToken } from "./token-stream.js";

describe("demo directives", () => {
  it("reads /ask /fail /slow /tools N /stream N and strips them from the text", () => {
    const none = { ask: false, fail: false, slow: false, hang: false, hangtool: false, invalid: false, stream: 0 };
    expect(parseDirectives("/ask what is 6*7")).toEqual({ ...none, ask: true, tools: 1, text: "what is 6*7" });
    expect(parseDirectives("/slow /tools 3 sum 1+2 /fail")).toEqual({ ...none, fail: true, slow: true, tools: 3, text: "sum 1+2" });
    expect(parseDirectives("/hangtool x")).toMatchObject({ hang: false, hangtool: true, text: "x" });
    expect(parseDirectives("/tools 999 x").tools).toBe(50);
    expect(parseDirectives("/tools 0 x").tools).toBe(0);
    expect(parseDirectives("path/ask/x and a/fail").ask).toBe(false);
    expect(parseDirectives("/stream 20000 tell me")).toMatchObject({ stream: 20_000, text: "tell me" });
    expect(parseDirectives("/stream 5000000").stream).toBe(1_000_000);
  });

  it("/stream tokens are 1-5 characters, and the text is the same every time", () => {
    const sizes = new Set(Array.from({ length: 1_000 }, (_, i) => demoToken(i).length));
    expect(Math.min(...sizes)).toBeGreaterThanOrEqual(1);
    expect(Math.max(...sizes)).toBeLessThanOrEqual(5);
    expect(sizes.size).toBeGreaterThan(2);
    expect(demoStreamText(300)).toBe(demoStreamText(300));
    expect(demoStreamText(300).startsWith(demoStreamText(299))).toBe(true);
  });
});
