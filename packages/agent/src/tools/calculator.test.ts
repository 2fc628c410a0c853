import { describe, expect, it } from "vitest";
import { evaluate, findExpression } from "./calculator.js";

describe("calculator", () => {
  it.each([
    ["6*7", 42],
    ["1 + 2 * 3", 7],
    ["(1 + 2) * 3", 9],
    ["2^3^2", 512],
    ["-3 + 5", 2],
    ["10 / 4", 2.5],
    ["7 % 4", 3],
    ["0.1 + 0.2", 0.3],
    [".5 * 4", 2],
  ])("%s = %s", (expr, value) => {
    expect(evaluate(expr)).toBe(value);
  });

  it.each([["1 / 0"], ["2 +"], ["(1"], ["1 2"], ["abc"], ["process.exit()"], [""]])("refuses %j", (expr) => {
    expect(() => evaluate(expr)).toThrow();
  });

  it("finds the arithmetic in a sentence", () => {
    expect(findExpression("what is 6*7?")).toBe("6*7");
    expect(findExpression("compute (2 + 3) * 4 please")).toBe("(2 + 3) * 4");
    expect(findExpression("hello there")).toBeUndefined();
    expect(findExpression("in 2026 maybe")).toBeUndefined();
  });
});
