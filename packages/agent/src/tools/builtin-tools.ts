import { z } from "zod";
import { defineTool } from "../define-tool.js";
import { evaluate } from "./calculator.js";

/** `calculator { expression }`: arithmetic (+ - * / % ^, parentheses), evaluated without eval. */
export const calculatorTool = defineTool({
  name: "calculator",
  description: "Evaluates an arithmetic expression: numbers, + - * / % ^ and parentheses. Returns the number.",
  input: z.object({ expression: z.string().min(1).max(500).describe("e.g. (12 + 30) * 2") }),
  run: ({ expression }) => evaluate(expression),
});

/** The time now in `timezone` (IANA name), as `YYYY-MM-DDTHH:mm:ss` local time with its zone. */
export function timeIn(timezone: string, now = new Date()): string {
  if (timezone === "UTC") return now.toISOString();
  let parts: Intl.DateTimeFormatPart[];
  try {
    parts = new Intl.DateTimeFormat("en-US", {
      timeZone: timezone,
      hourCycle: "h23",
      year: "numeric",
      month: "2-digit",
      day: "2-digit",
      hour: "2-digit",
      minute: "2-digit",
      second: "2-digit",
    }).formatToParts(now);
  } catch {
    throw new Error(`unknown timezone ${timezone}`);
  }
  const p = (type: string) => parts.find((x) => x.type === type)?.value ?? "";
  return `${p("year")}-${p("month")}-${p("day")}T${p("hour")}:${p("minute")}:${p("second")} (${timezone})`;
}

/** `clock { timezone }`: the current time in an IANA time zone (default UTC). */
export const clockTool = defineTool({
  name: "clock",
  description: "The current date and time in a time zone (IANA name such as Europe/Paris; default UTC).",
  input: z.object({ timezone: z.string().min(1).max(64).default("UTC") }),
  run: ({ timezone }) => timeIn(timezone),
});

/** `ask_user { question }`: asks the user (agent_question) and returns their answer — a human in the loop through the model. */
export const askUserTool = defineTool({
  name: "ask_user",
  description: "Asks the user a question and waits for their answer. Use it when you need information only the user has.",
  input: z.object({ question: z.string().min(1).max(2_000) }),
  run: ({ question }, ctx) => ctx.ask(question),
});
