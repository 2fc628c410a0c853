// Issue 17, "Out" 3: the AI SDK's own chat logic (AbstractChat, the state under useChat) with its default
// transport against POST /v1/chat, GET /v1/chat/:chatId/stream (resume after a "reload") and POST .../stop.
import { randomUUID } from "node:crypto";
import type { EventEnvelope } from "@agentcast/protocol";
import { until } from "@agentcast/testkit";
import { AbstractChat, type ChatState, type ChatStatus, DefaultChatTransport, type UIMessage } from "ai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Stack, startStack } from "./fixture.js";

/** The chat state useChat keeps in React, kept in plain fields. */
class PlainChatState implements ChatState<UIMessage> {
  status: ChatStatus = "ready";
  error: Error | undefined = undefined;
  constructor(public messages: UIMessage[] = []) {}
  pushMessage = (m: UIMessage) => {
    this.messages = [...this.messages, m];
  };
  popMessage = () => {
    this.messages = this.messages.slice(0, -1);
  };
  replaceMessage = (i: number, m: UIMessage) => {
    this.messages = [...this.messages.slice(0, i), m, ...this.messages.slice(i + 1)];
  };
  snapshot = <T>(thing: T): T => structuredClone(thing);
}

class PlainChat extends AbstractChat<UIMessage> {
  constructor(id: string, transport: DefaultChatTransport<UIMessage>, messages: UIMessage[] = []) {
    super({ id, transport, state: new PlainChatState(messages) });
  }
}

const textOf = (m: UIMessage | undefined) => (m?.parts ?? []).map((p) => (p.type === "text" ? p.text : "")).join("");

describe("AI SDK chat: POST /v1/chat, GET /v1/chat/:chatId/stream, POST /v1/chat/:chatId/stop", () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ gateways: 2, workers: 1 });
  });
  afterAll(() => stack?.stop());

  const transport = async (userId: string, gateway = 0) =>
    new DefaultChatTransport<UIMessage>({
      api: `${stack.gateways[gateway]?.url}/v1/chat`,
      headers: { authorization: `Bearer ${await stack.token(userId)}` },
    });
  const answerOf = async (userId: string, chatId: string, runId?: string) => {
    const events = (await stack.http(`/v1/tasks/${chatId}/events?sinceSeq=0`, { userId })).body.events as EventEnvelope[];
    const run = runId ?? events.at(-1)?.runId;
    return events
      .filter((e) => e.runId === run && e.type === "agent_output")
      .map((e) => (e.data as { delta: string }).delta)
      .join("");
  };

  it("sendMessage streams the run into one assistant message: reasoning, the tool call with its output, the text once", async () => {
    const chatId = `chat_${randomUUID().slice(0, 8)}`;
    const chat = new PlainChat(chatId, await transport("ai-ann"));
    await chat.sendMessage({ text: "/tools 2 sum 40+2" });
    expect(chat.status).toBe("ready");
    expect(chat.messages.map((m) => m.role)).toEqual(["user", "assistant"]);
    const assistant = chat.messages[1] as UIMessage;
    const task = (await stack.http(`/v1/tasks/${chatId}`, { userId: "ai-ann" })).body as { runId: string; status: string };
    expect(task.status).toBe("succeeded");
    expect(assistant.id).toBe(`msg_${task.runId}`);
    const answer = await answerOf("ai-ann", chatId);
    expect(answer).toContain("42");
    expect(textOf(assistant)).toBe(answer);
    const types = assistant.parts.map((p) => p.type);
    expect(types).toContain("reasoning");
    expect(types.filter((t) => t === "tool-calculator")).toHaveLength(2);
    const tool = assistant.parts.find((p) => p.type === "tool-calculator") as { state: string; output: unknown; input: unknown };
    expect(tool).toMatchObject({ state: "output-available", input: { expression: expect.any(String) } });
    expect(assistant.parts.find((p) => p.type === "data-progress")).toMatchObject({ data: { percent: 100 } });

    // The next message continues the chat (the same task), with a second run.
    await chat.sendMessage({ text: "thanks" });
    expect(chat.messages.map((m) => m.role)).toEqual(["user", "assistant", "user", "assistant"]);
    expect((await stack.http(`/v1/tasks/${chatId}`, { userId: "ai-ann" })).body.runs).toBe(2);
  });

  it("a reload mid-stream resumes on the other gateway: the run replays from its start under the same message id, the text once", async () => {
    const chatId = `chat_${randomUUID().slice(0, 8)}`;
    const first = new PlainChat(chatId, await transport("ai-bo", 0));
    const sending = first.sendMessage({ text: "/slow /tools 4 sum 5+5" });
    await until("some of the run in the first tab", () => (first.messages[1]?.parts.length ?? 0) >= 3, 15_000);
    // What the app persisted before the "reload": the user message and a partial assistant message.
    const persisted = structuredClone(first.messages);
    await first.stop(); // aborts the fetch; the server cannot tell it from a closed tab: nothing is cancelled
    await sending.catch(() => undefined);

    const second = new PlainChat(chatId, await transport("ai-bo", 1), persisted);
    await second.resumeStream();
    expect(second.status).toBe("ready");
    expect(second.messages.map((m) => m.role)).toEqual(["user", "assistant"]);
    const task = (await stack.http(`/v1/tasks/${chatId}`, { userId: "ai-bo" })).body as { runId: string; status: string };
    expect(task.status).toBe("succeeded");
    expect(second.messages[1]?.id).toBe(`msg_${task.runId}`);
    expect(textOf(second.messages[1])).toBe(await answerOf("ai-bo", chatId));
    expect(second.messages[1]?.parts.filter((p) => p.type === "tool-calculator")).toHaveLength(4);

    // No run active any more: the resume request answers 204 and the chat stays as it is.
    const idle = new PlainChat(chatId, await transport("ai-bo", 0), structuredClone(second.messages));
    await idle.resumeStream();
    expect(idle.messages).toEqual(second.messages);
    const res = await fetch(`${stack.gateways[0]?.url}/v1/chat/${chatId}/stream`, {
      headers: { authorization: `Bearer ${await stack.token("ai-bo")}` },
    });
    expect(res.status).toBe(204);
  });

  it("POST /v1/chat/:chatId/stop cancels the run for every viewer; the stream ends with abort and finish", async () => {
    const chatId = `chat_${randomUUID().slice(0, 8)}`;
    const chat = new PlainChat(chatId, await transport("ai-cy"));
    const sending = chat.sendMessage({ text: "/slow /tools 20 sum 1+1" });
    await until("a tool call", () => chat.messages[1]?.parts.some((p) => p.type === "tool-calculator") ?? false, 15_000);
    const watcher = await fetch(`${stack.gateways[1]?.url}/v1/chat/${chatId}/stream`, {
      headers: { authorization: `Bearer ${await stack.token("ai-cy")}` },
    });
    const stop = await stack.http(`/v1/chat/${chatId}/stop`, { userId: "ai-cy", method: "POST", gateway: 1 });
    expect(stop).toMatchObject({ status: 202, body: { taskId: chatId } });
    await sending;
    expect(chat.status).toBe("ready");
    const watched = await watcher.text();
    expect(watched).toContain('"type":"abort"');
    expect(watched.trimEnd().endsWith("data: [DONE]")).toBe(true);
    expect((await stack.http(`/v1/tasks/${chatId}`, { userId: "ai-cy" })).body.status).toBe("cancelled");
    expect((await stack.http(`/v1/chat/${chatId}/stop`, { userId: "ai-cy", method: "POST" })).body).toMatchObject({
      error: { code: "task_not_running" },
    });
  });

  it("another user's chat id is refused; a malformed request is invalid_payload and starts nothing", async () => {
    const chatId = `chat_${randomUUID().slice(0, 8)}`;
    await new PlainChat(chatId, await transport("ai-dee")).sendMessage({ text: "mine" });
    const intruder = new PlainChat(chatId, await transport("ai-eve"));
    await intruder.sendMessage({ text: "let me in" });
    expect(intruder.status).toBe("error");
    expect(intruder.error?.message).toContain("forbidden");
    const post = (body: unknown) => stack.http("/v1/chat", { userId: "ai-dee", body });
    const user = (text: string) => ({ id: "u1", role: "user", parts: [{ type: "text", text }] });
    expect((await post({ id: "bad id", messages: [user("x")] })).body).toMatchObject({ error: { code: "invalid_payload" } });
    expect((await post({ id: chatId, messages: [] })).body).toMatchObject({ error: { code: "invalid_payload" } });
    expect((await post({ id: chatId, messages: [user("  ")] })).body).toMatchObject({ error: { code: "invalid_payload" } });
    expect((await post({ id: chatId, messages: [user("x".repeat(20_000))] })).body).toMatchObject({ error: { code: "payload_too_large" } });
    expect((await stack.http(`/v1/tasks/${chatId}`, { userId: "ai-dee" })).body.runs).toBe(1);
  });
});
