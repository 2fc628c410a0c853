import { streamTokens, type TokenSchedule } from "../common/tokens.js";

/**
 * The agent the worker runs in the `llm` scenario (AGENT_MODULE): its input is a token schedule
 * (JSON `{ startMs, tokens, rate }`), and it streams those tokens through `ctx.output`, one call per
 * token, as an agent relaying a provider's stream does.
 */
interface Ctx {
  input: string;
  output(delta: string): Promise<void>;
  sleep(ms: number): Promise<void>;
}

export default function createAgent() {
  return {
    name: "bench-tokens",
    async run(ctx: Ctx) {
      const schedule = JSON.parse(ctx.input) as TokenSchedule;
      await streamTokens(
        schedule,
        (token) => ctx.output(token),
        (ms) => ctx.sleep(ms),
      );
      return { result: { tokens: schedule.tokens } };
    },
  };
}
