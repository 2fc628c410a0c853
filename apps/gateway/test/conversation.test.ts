// ctx.conversation (issue 16): a follow-up's agent sees the task's earlier runs — input, streamed answer,
// questions with their answers, how each ended — stored with the task, so it holds on another worker
// (the first one is stopped between runs) and behind another gateway; bounded by turns and answer size.
import { fileURLToPath } from "node:url";
import type { EventEnvelope } from "@agentcast/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Stack, startStack } from "./fixture.js";

const AGENT = fileURLToPath(new URL("./fixtures/conversation-agent.mjs", import.meta.url));

interface Turn {
  runId: string;
  input: string;
  answer: string;
  status: string;
  questions: { prompt: string; answer: string }[];
  truncated?: boolean;
}
const conversationOf = (run: EventEnvelope[]) => {
  const end = run.at(-1);
  if (end?.type !== "agent_completed") throw new Error(`run ended with ${end?.type}`);
  return (end.data.result as { conversation: Turn[] }).conversation;
};

describe("conversation", () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({
      gateways: 2,
      workers: 2,
      workerEnv: { AGENT_MODULE: AGENT, CONVERSATION_MAX_TURNS: "2", CONVERSATION_MAX_ANSWER_CHARS: "100" },
    });
  });
  afterAll(() => stack?.stop());

  it("each follow-up sees the earlier turns (with questions and answers), on another worker; the oldest go past CONVERSATION_MAX_TURNS", async () => {
    const a = await stack.client("alice", 0);
    const b = await stack.client("alice", 1);
    const first = await a.command("user_message", { text: "first /ask" });
    if (!first.ok) throw new Error(JSON.stringify(first));
    const q = await a.waitForEvent("agent_question", first.taskId);
    if (q.type !== "agent_question") throw new Error("unreachable");
    await b.command("user_response", { taskId: first.taskId, questionId: q.data.questionId, response: "blue" });
    expect(conversationOf(await a.collectRun(first.taskId))).toEqual([]);

    // Only the second worker is left: the turn must come from Redis, not from the first worker's memory.
    await stack.workers[0]?.child.stop("SIGTERM", 5_000);
    const second = await b.command("user_message", { text: "second /long", taskId: first.taskId });
    if (!second.ok) throw new Error(JSON.stringify(second));
    const seen2 = conversationOf(await b.collectRun(first.taskId, { runId: second.runId }));
    expect(seen2).toEqual([
      {
        runId: first.runId,
        input: "first /ask",
        answer: "answer to first /ask (you said blue)",
        status: "succeeded",
        questions: [{ prompt: "question in first /ask", answer: "blue" }],
      },
    ]);

    const third = await a.command("user_message", { text: "third", taskId: first.taskId });
    if (!third.ok) throw new Error(JSON.stringify(third));
    const seen3 = conversationOf(await a.collectRun(first.taskId, { runId: third.runId }));
    // The 500-character answer is kept to CONVERSATION_MAX_ANSWER_CHARS (100) and says so.
    expect(seen3.map((t) => [t.input, t.answer.length, t.truncated ?? false])).toEqual([
      ["first /ask", 36, false],
      ["second /long", 100, true],
    ]);

    const fourth = await b.command("user_message", { text: "fourth", taskId: first.taskId });
    if (!fourth.ok) throw new Error(JSON.stringify(fourth));
    const seen4 = conversationOf(await b.collectRun(first.taskId, { runId: fourth.runId }));
    // CONVERSATION_MAX_TURNS 2: the oldest turn is gone, the newest two stay, oldest first.
    expect(seen4.map((t) => t.input)).toEqual(["second /long", "third"]);
    expect(stack.problems()).toEqual([]);
  });
});
