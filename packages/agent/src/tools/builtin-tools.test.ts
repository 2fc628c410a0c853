import { describe, expect, it } from "vitest";
import { calculatorTool, clockTool, timeIn } from "./builtin-tools.js";

describe("built-in tools", () => {
  it("clock: UTC as ISO; another zone as its local time; an unknown zone is an error", () => {
    const at = new Date("2026-12-05T12:34:56.000Z");
    expect(timeIn("UTC", at)).toBe("2026-12-05T12:34:56.000Z");
    expect(timeIn("Asia/Tokyo", at)).toBe("2026-12-05T21:34:56 (Asia/Tokyo)");
    expect(() => timeIn("Mars/Olympus", at)).toThrow(/unknown timezone Mars\/Olympus/);
    expect(clockTool.jsonSchema).toMatchObject({ properties: { timezone: { type: "string", default: "UTC" } } });
  });

  it("calculator's schema asks for an expression", () => {
    expect(calculatorTool.jsonSchema).toMatchObject({ required: ["expression"], properties: { expression: { type: "string" } } });
  });
});
