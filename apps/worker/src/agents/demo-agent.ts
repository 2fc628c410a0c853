import { type AgentContext, type AgentRunContext, defineAgent, defineTool, evaluate, findExpression } from "@agentcast/agent";
import { z } from "zod";
import { type Agent, AgentFailure } from "./agent.js";
import { streamTokens } from "./token-stream.js";

export interface DemoDirectives {
  ask: boolean;
  fail: boolean;
  slow: boolean;
  /** Test directives: hang forever, hang inside a tool call, emit an event that breaks the run rules. */
  hang: boolean;
  hangtool: boolean;
  invalid: boolean;
  /** Number of tool calls (default 1, at most 50). */
  tools: number;
  /** `/stream N`: stream N output tokens (1–5 characters) at DEMO_TOKEN_RATE instead of the usual answer; 0 = not asked. */
  stream: number;
  /** The text without directives. */
  text: string;
}

const MAX_TOOLS = 50;
const MAX_STREAM_TOKENS = 1_000_000;

/** Reads `/ask`, `/fail`, `/slow`, `/tools N` and `/stream N` out of a message. */
export function parseDirectives(input: string): DemoDirectives {
  let tools = 1;
  let stream = 0;
  const text = input
    .replace(/(^|\s)\/tools\s+(\d+)(?=\s|$)/gi, (_m, pre: string, n: string) => {
      tools = Math.min(Number(n), MAX_TOOLS);
      return pre;
    })
    .replace(/(^|\s)\/stream\s+(\d+)(?=\s|$)/gi, (_m, pre: string, n: string) => {
      stream = Math.min(Number(n), MAX_STREAM_TOKENS);
      return pre;
    })
    .replace(/(^|\s)\/(ask|fail|slow|hang|hangtool|invalid)(?=\s|$)/gi, "$1")
    .replace(/\s+/g, " ")
    .trim();
  const has = (d: string) => new RegExp(`(^|\\s)/${d}(\\s|$)`, "i").test(input);
  return {
    ask: has("ask"),
    fail: has("fail"),
    slow: has("slow"),
    hang: has("hang"),
    hangtool: has("hangtool"),
    invalid: has("invalid"),
    tools,
    stream,
    text,
  };
}

/**
 * The deterministic demo agent: thinks, calls a calculator on an arithmetic expression in the text
 * (else a clock), reports progress, optionally asks a question, streams its answer and completes.
 * `/stream N` streams N tokens at `tokensPerSecond` instead (reasoning first, token by token).
 */
export function createDemoAgent(stepMs: number, tokensPerSecond = 100): Agent {
  // Tools take a step's time (ten with /slow), so a cancel can land mid-call.
  const stepOf = new Map<string, number>();
  const pause = (ctx: AgentContext) => ctx.sleep(stepOf.get(ctx.runId) ?? stepMs);
  const calculator = defineTool({
    name: "calculator",
    description: "Evaluates an arithmetic expression",
    input: z.object({ expression: z.string().min(1) }),
    run: async ({ expression }, ctx) => {
      await pause(ctx);
      return evaluate(expression);
    },
  });
  const clock = defineTool({
    name: "clock",
    description: "The current time",
    input: z.object({ timezone: z.literal("UTC") }),
    run: async (_args, ctx) => {
      await pause(ctx);
      return new Date().toISOString();
    },
  });
  // /hangtool: a tool call that never completes (the watchdog and cancel must still end the run).
  const wait = defineTool({
    name: "wait",
    description: "Never returns",
    input: z.object({ forever: z.boolean() }),
    run: () => new Promise<never>(() => {}),
  });
  return defineAgent({
    name: "demo",
    tools: [calculator, clock, wait],
    async run(ctx) {
      const d = parseDirectives(ctx.input);
      stepOf.set(ctx.runId, d.slow ? stepMs * 10 : stepMs);
      try {
        return await runDemo(ctx, d, stepOf.get(ctx.runId) ?? stepMs, tokensPerSecond);
      } finally {
        stepOf.delete(ctx.runId);
      }
    },
  });
}

/** One demo run: `step` is the pause between steps (ten times longer with /slow). */
async function runDemo(ctx: AgentRunContext, d: DemoDirectives, step: number, tokensPerSecond: number) {
  if (d.stream > 0) {
    for (const piece of ["Planning", " a", " long", " answer", "."]) await ctx.thinkingDelta(piece);
    await ctx.progress(10, `Streaming ${d.stream} tokens`);
    const outputChars = await streamTokens(ctx, d.stream, tokensPerSecond);
    await ctx.progress(100, "Done");
    return { result: { outputChars } };
  }
  await ctx.thinking(`Reading the request: "${d.text.slice(0, 120)}"`);
  await ctx.progress(10, "Understanding the request");
  await ctx.sleep(step);
  if (d.hang) await new Promise(() => {}); // never settles: the watchdog must end the run
  if (d.hangtool) await ctx.tools.call("wait", { forever: true });
  if (d.invalid) await ctx.progress(150, "beyond 100 %: breaks the run rules");
  if (d.fail) {
    await ctx.thinking("This request asks me to fail (/fail).");
    throw new AgentFailure("agent_failed", "The demo agent was asked to fail (/fail)");
  }
  const expression = findExpression(d.text);
  let answer = "";
  for (let i = 0; i < d.tools; i++) {
    if (expression) {
      try {
        answer = `${expression} = ${await ctx.tools.call("calculator", { expression })}`;
      } catch (err) {
        if (ctx.signal.aborted) throw err;
        answer = `I could not compute ${expression}: ${(err as Error).message}`;
      }
    } else {
      answer = `It is ${await ctx.tools.call("clock", { timezone: "UTC" })} (UTC)`;
    }
    await ctx.progress(10 + Math.floor((60 * (i + 1)) / d.tools), `Tool call ${i + 1} of ${d.tools} done`);
  }
  if (!answer) answer = "I did not need any tool for this";
  let userResponse: string | undefined;
  if (d.ask) {
    userResponse = await ctx.ask(`${answer}. Anything you want me to add before I answer?`);
    await ctx.thinking(`The user answered: "${userResponse.slice(0, 200)}"`);
  }
  await ctx.progress(80, "Writing the answer");
  const text = userResponse === undefined ? `${answer}.` : `${answer}. You said: ${userResponse}`;
  for (const chunk of text.match(/[\s\S]{1,24}/g) ?? []) {
    await ctx.output(chunk);
    await ctx.sleep(Math.ceil(step / 3));
  }
  await ctx.progress(100, "Done");
  return { result: { answer, ...(userResponse === undefined ? {} : { userResponse }) } };
}
