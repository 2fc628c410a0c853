import type { IncomingMessage, ServerResponse } from "node:http";
import { ID_PATTERN, isTerminalEventType, LIMITS } from "@agentcast/protocol";
import type { TaskRecord, TaskStore } from "@agentcast/store";
import { z } from "zod";
import { readJson, sendError, sendSchemaError } from "../../http/respond.js";
import type { RunService } from "../../runs/run-service.js";
import { envelopeOf } from "../envelope-of.js";
import { openTaskStream, type StreamAccess, type TaskStreamDeps } from "../task-stream.js";
import { UI_MESSAGE_STREAM_HEADERS, UiMessageStreamFormat } from "./ui-message-stream.js";

export interface ChatRouteDeps {
  runs: RunService;
  tasks: TaskStore;
  streams: () => TaskStreamDeps;
}

/** A chat request body is the whole conversation so far: larger than a command's. */
export const MAX_CHAT_BODY_BYTES = 4 * 1024 * 1024;

const part = z.looseObject({ type: z.string(), text: z.string().optional() });
/** What `useChat`'s default transport POSTs (`id`, `messages`, `trigger`, `messageId`, and the app's own `body` fields). */
const chatRequestSchema = z.looseObject({
  id: z.string().regex(ID_PATTERN, "must be 1-64 characters of A-Z a-z 0-9 _ - (it becomes the task id)"),
  messages: z
    .array(z.looseObject({ id: z.string().optional(), role: z.string(), parts: z.array(part).max(1_000) }))
    .min(1, "must hold the user's message")
    .max(10_000),
  trigger: z.enum(["submit-message", "regenerate-message"]).optional(),
  messageId: z.string().optional(),
});
const userText = z.string().max(LIMITS.maxTextChars).trim().min(1, "must not be empty");

/**
 * The AI SDK's chat endpoints, for `useChat` with its default transport (`api: <gateway>/v1/chat`):
 * `POST /v1/chat` starts a run on the chat (the chat id is the task id) and streams it as a UI message
 * stream; `GET /v1/chat/:chatId/stream` replays the current run from its start and follows it (204 when
 * no run is active) — what `useChat({ resume: true })` asks after a reload; `POST /v1/chat/:chatId/stop`
 * cancels (an aborted fetch cancels nothing: the server cannot tell it from a closed tab).
 */
export const chatRoutes = {
  async start(deps: ChatRouteDeps, req: IncomingMessage, res: ServerResponse, access: StreamAccess): Promise<void> {
    const parsed = chatRequestSchema.safeParse(await readJson(req, MAX_CHAT_BODY_BYTES));
    if (!parsed.success) return sendSchemaError(res, parsed.error);
    const { id: chatId, messages, trigger } = parsed.data;
    const last = messages.at(-1);
    if (last?.role !== "user") return sendError(res, "invalid_payload", "messages: the last message must be the user's");
    const text = userText.safeParse(last.parts.map((p) => (p.type === "text" ? (p.text ?? "") : "")).join(""));
    if (!text.success) return sendSchemaError(res, text.error, "messages.last.text");
    // A resent submit (same user message id) gets the run it started; a regenerate always starts a new one.
    const messageId = trigger !== "regenerate-message" && last.id !== undefined && ID_PATTERN.test(last.id) ? last.id : undefined;
    let fromSeq = 0;
    const started = await deps.runs.start({
      userId: access.userId,
      text: text.data,
      taskId: chatId,
      createIfMissing: true,
      messageId,
      follow: async (_taskId, seq) => {
        fromSeq = seq;
      },
    });
    await streamRun(deps.streams(), res, access, chatId, started.runId, fromSeq);
  },

  async resume(deps: ChatRouteDeps, res: ServerResponse, target: { task: TaskRecord; access: StreamAccess }): Promise<void> {
    const { taskId, status, runId, runFromSeq } = target.task;
    if (status !== "queued" && status !== "running") {
      res.writeHead(204).end();
      return;
    }
    await streamRun(deps.streams(), res, target.access, taskId, runId, runFromSeq);
  },

  async stop(deps: ChatRouteDeps, res: ServerResponse, userId: string, chatId: string): Promise<void> {
    const done = await deps.tasks.requestCancel(userId, chatId);
    if (!done.ok) return sendError(res, done.code);
    res.writeHead(202, { "content-type": "application/json; charset=utf-8" }).end(JSON.stringify({ taskId: chatId, runId: done.runId }));
  },
};

/** One run, from its first event, as a UI message stream that ends after the run's terminal event. */
async function streamRun(deps: TaskStreamDeps, res: ServerResponse, access: StreamAccess, taskId: string, runId: string, fromSeq: number) {
  const format = new UiMessageStreamFormat(runId);
  await openTaskStream(deps, res, {
    protocol: "ai_sdk",
    taskId,
    sinceSeq: fromSeq,
    format,
    access,
    headers: UI_MESSAGE_STREAM_HEADERS,
    prelude: () => format.start(),
    endAfter: (event) => isTerminalEventType(event.type) && envelopeOf(event).runId === runId,
  });
}
