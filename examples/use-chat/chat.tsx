// useChat from the AI SDK, unchanged, against an agentcast gateway: the chat id is the task id, the gateway
// streams the AI SDK's UI message stream, and `resume: true` picks a running answer up again after a reload.
// Served from the gateway's origin (WEB_ROOT) here; from another origin, list it in the gateway's CORS_ORIGINS.
import { useChat } from "@ai-sdk/react";
import { DefaultChatTransport, type UIMessage } from "ai";
import { type FormEvent, useEffect, useState } from "react";
import { createRoot } from "react-dom/client";

const GATEWAY = ""; // same origin; e.g. "https://agentcast.example.com" otherwise
// Your app's own sign-in puts the user's token somewhere; a user's JWT never goes into a URL.
const token = () => localStorage.getItem("agentcast-token") ?? "";
const chatId = new URLSearchParams(location.search).get("chat") ?? `chat_${crypto.randomUUID().slice(0, 8)}`;
const saved = (): UIMessage[] => JSON.parse(localStorage.getItem(`messages:${chatId}`) ?? "[]");

const transport = new DefaultChatTransport<UIMessage>({
  api: `${GATEWAY}/v1/chat`,
  headers: () => ({ authorization: `Bearer ${token()}` }),
});

function Chat() {
  const { messages, sendMessage, status } = useChat({ id: chatId, messages: saved(), transport, resume: true });
  const [text, setText] = useState("");
  // Persist the conversation as your app would (the gateway keeps the task's history, not your UI messages).
  useEffect(() => localStorage.setItem(`messages:${chatId}`, JSON.stringify(messages)), [messages]);
  const send = (e: FormEvent) => {
    e.preventDefault();
    if (text.trim()) void sendMessage({ text });
    setText("");
  };
  // useChat's stop() only aborts the fetch (which cancels nothing): cancel the run on the gateway.
  const stop = () => fetch(`${GATEWAY}/v1/chat/${chatId}/stop`, { method: "POST", headers: { authorization: `Bearer ${token()}` } });
  return (
    <main>
      <p id="status">{status}</p>
      {messages.map((m) => (
        <div key={m.id} className="message" data-role={m.role} data-id={m.id}>
          <b>{m.role}</b>: {m.parts.map((p) => (p.type === "text" ? p.text : "")).join("")}
          <small className="parts">{m.parts.map((p) => p.type).join(" ")}</small>
        </div>
      ))}
      <form onSubmit={send}>
        <input id="text" value={text} onChange={(e) => setText(e.target.value)} placeholder="Ask the agent" />
        <button type="submit">Send</button>
        <button type="button" id="stop" onClick={stop}>
          Stop
        </button>
      </form>
    </main>
  );
}

createRoot(document.getElementById("root") as HTMLElement).render(<Chat />);
