import { describe, expect, it } from "vitest";
import { parseDirectives } from "./demo-agent.js";

describe("demo directives", () => {
  it("reads /ask /fail /slow /tools N and strips them from the text", () => {
    expect(parseDirectives("/ask what is 6*7")).toEqual({ ask: true, fail: false, slow: false, tools: 1, text: "what is 6*7" });
    expect(parseDirectives("/slow /tools 3 sum 1+2 /fail")).toEqual({ ask: false, fail: true, slow: true, tools: 3, text: "sum 1+2" });
    expect(parseDirectives("/tools 999 x").tools).toBe(50);
    expect(parseDirectives("/tools 0 x").tools).toBe(0);
    expect(parseDirectives("path/ask/x and a/fail").ask).toBe(false);
  });
});
