import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { ChatChunk } from "./chunks.js";

/** A chat-completions request as the fake provider received it. */
export interface ChatRequest {
  model: string;
  messages: { role: string; content?: unknown; tool_calls?: unknown[]; tool_call_id?: string; name?: string }[];
  tools?: { type: "function"; function: { name: string; description?: string; parameters?: unknown } }[];
  stream?: boolean;
  stream_options?: { include_usage?: boolean };
  [key: string]: unknown;
}

/** How the fake provider answers one request. */
export type FakeReply =
  /** An SSE stream of these chunks then `data: [DONE]`, `delayMs` apart; `cutAfter`: the socket is destroyed after that many chunks. */
  | { stream: ChatChunk[]; delayMs?: number; cutAfter?: number }
  /** An HTTP error (429, 500, …) with these headers (e.g. `retry-after`) and a JSON body. */
  | { status: number; headers?: Record<string, string>; body?: unknown }
  /** The request is read and never answered. */
  | { hang: true }
  /** A 200 event stream whose body is this raw text (not valid chunks), then the end. */
  | { garbage: string };

export interface FakeLlmRequest {
  body: ChatRequest;
  headers: IncomingMessage["headers"];
  /** True once the client closed the connection before the reply ended (an abort). */
  aborted: boolean;
}

export interface FakeLlm {
  /** Base URL including `/v1`, as LLM_BASE_URL. */
  readonly url: string;
  readonly requests: FakeLlmRequest[];
  /** Resolves when a request's connection is closed by the client before its reply ended; with the request. */
  nextAbort(): Promise<FakeLlmRequest>;
  close(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * An OpenAI-compatible provider of our own, on 127.0.0.1 and a free port: `POST /v1/chat/completions`
 * answered by `respond(request, n)` (n counts requests from 0). Records every request and every
 * connection a client closed early, so a test can prove that a cancel aborted the provider request.
 */
export async function startFakeLlm(respond: (req: ChatRequest, n: number) => FakeReply): Promise<FakeLlm> {
  const requests: FakeLlmRequest[] = [];
  const abortWaiters: ((r: FakeLlmRequest) => void)[] = [];
  const sockets = new Set<import("node:net").Socket>();
  const server = createServer(async (req, res) => {
    if (req.method !== "POST" || !req.url?.endsWith("/chat/completions")) {
      res.writeHead(404, { "content-type": "application/json" }).end(JSON.stringify({ error: { message: "not found" } }));
      return;
    }
    let raw = "";
    for await (const part of req) raw += part;
    const record: FakeLlmRequest = { body: JSON.parse(raw) as ChatRequest, headers: req.headers, aborted: false };
    const n = requests.push(record) - 1;
    res.on("close", () => {
      if (res.writableFinished) return;
      record.aborted = true;
      for (const w of abortWaiters.splice(0)) w(record);
    });
    await reply(res, respond(record.body, n));
  });
  server.on("connection", (s) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
  const close = async () => {
    for (const s of sockets) s.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };
  return {
    url,
    requests,
    nextAbort: () => new Promise((resolve) => abortWaiters.push(resolve)),
    close,
    [Symbol.asyncDispose]: close,
  };
}

async function reply(res: ServerResponse, r: FakeReply): Promise<void> {
  if ("hang" in r) return;
  if ("status" in r) {
    res.writeHead(r.status, { "content-type": "application/json", ...r.headers });
    res.end(JSON.stringify(r.body ?? { error: { message: `fake provider error ${r.status}`, type: "server_error" } }));
    return;
  }
  res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache", connection: "keep-alive" });
  if ("garbage" in r) {
    res.end(r.garbage);
    return;
  }
  for (const [i, c] of r.stream.entries()) {
    if (res.destroyed) return;
    if (r.cutAfter !== undefined && i >= r.cutAfter) {
      res.socket?.destroy();
      return;
    }
    res.write(`data: ${JSON.stringify(c)}\n\n`);
    if (r.delayMs) await sleep(r.delayMs);
  }
  if (!res.destroyed) res.end("data: [DONE]\n\n");
}
