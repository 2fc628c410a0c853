import { describe, expect, it } from "vitest";
import { parseDirectives } from "./demo-agent.js";

describe("demo directives", () => {
  it("reads /ask /fail /slow /tools N and strips them from the text", () => {
    const none = { ask: false, fail: false, slow: false, hang: false, hangtool: false, invalid: false };
    expect(parseDirectives("/ask what is 6*7")).toEqual({ ...none, ask: true, tools: 1, text: "what is 6*7" });
    expect(parseDirectives("/slow /tools 3 sum 1+2 /fail")).toEqual({ ...none, fail: true, slow: true, tools: 3, text: "sum 1+2" });
    expect(parseDirectives("/hangtool x")).toMatchObject({ hang: false, hangtool: true, text: "x" });
    expect(parseDirectives("/tools 999 x").tools).toBe(50);
    expect(parseDirectives("/tools 0 x").tools).toBe(0);
    expect(parseDirectives("path/ask/x and a/fail").ask).toBe(false);
  });
});
