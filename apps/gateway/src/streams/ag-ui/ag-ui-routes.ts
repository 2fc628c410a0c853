import type { IncomingMessage, ServerResponse } from "node:http";
import { RunAgentInputSchema } from "@ag-ui/core/schemas";
import { ID_PATTERN, isTerminalEventType, LIMITS } from "@agentcast/protocol";
import type { TaskRecord, TaskStore } from "@agentcast/store";
import { z } from "zod";
import { readJson, sendError, sendSchemaError } from "../../http/respond.js";
import type { RunService } from "../../runs/run-service.js";
import { MAX_CHAT_BODY_BYTES } from "../ai-sdk/chat-routes.js";
import { envelopeOf } from "../envelope-of.js";
import { type FramePosition, lastEventIdOf } from "../event-id.js";
import { openTaskStream, type StreamAccess, type TaskStreamDeps } from "../task-stream.js";
import { AgUiFormat } from "./ag-ui-format.js";

export interface AgUiRouteDeps {
  runs: RunService;
  tasks: TaskStore;
  streams: () => TaskStreamDeps;
}

const threadIdSchema = z.string().regex(ID_PATTERN, "must be 1-64 characters of A-Z a-z 0-9 _ - (it becomes the task id)");
const clientRunIdSchema = z.string().min(1).max(128);
const userText = z.string().max(LIMITS.maxTextChars).trim().min(1, "must not be empty");

/** The text of a user message: its string content, or its text parts joined. */
function textOf(content: unknown): string {
  if (typeof content === "string") return content;
  if (!Array.isArray(content)) return "";
  return content
    .map((p) =>
      p && typeof p === "object" && (p as { type?: unknown }).type === "text" ? String((p as { text?: unknown }).text ?? "") : "",
    )
    .join("");
}

/**
 * AG-UI's HTTP agent endpoint: `POST /v1/ag-ui` takes a `RunAgentInput` (the thread id is the task id; a
 * new one the client chose creates the task; the last user message is the run's input) and streams the
 * run as AG-UI events. `GET /v1/ag-ui/:threadId/stream` with `Last-Event-ID` resumes the thread's current
 * (or last) run where the client left it: the `resumable` mechanism AG-UI reserves without defining.
 */
export const agUiRoutes = {
  async run(deps: AgUiRouteDeps, req: IncomingMessage, res: ServerResponse, access: StreamAccess): Promise<void> {
    const parsed = RunAgentInputSchema.safeParse(await readJson(req, MAX_CHAT_BODY_BYTES));
    if (!parsed.success)
      return sendError(
        res,
        "invalid_payload",
        `RunAgentInput: ${parsed.error.issues
          .slice(0, 3)
          .map((i) => `${i.path.join(".")}: ${i.message}`)
          .join("; ")}`,
      );
    const input = parsed.data;
    const threadId = threadIdSchema.safeParse(input.threadId);
    if (!threadId.success) return sendSchemaError(res, threadId.error, "threadId");
    const clientRunId = clientRunIdSchema.safeParse(input.runId);
    if (!clientRunId.success) return sendSchemaError(res, clientRunId.error, "runId");
    const lastUser = [...input.messages].reverse().find((m) => m.role === "user");
    if (!lastUser) return sendError(res, "invalid_payload", "messages: a user message is needed (the last one is the run's input)");
    const text = userText.safeParse(textOf((lastUser as { content?: unknown }).content));
    if (!text.success) return sendSchemaError(res, text.error, "messages.user.content");
    let fromSeq = 0;
    const started = await deps.runs.start({
      userId: access.userId,
      text: text.data,
      taskId: threadId.data,
      createIfMissing: true,
      follow: async (_taskId, seq) => {
        fromSeq = seq;
      },
    });
    await deps.tasks.setClientRunId(threadId.data, started.runId, clientRunId.data);
    await streamRun(deps.streams(), res, access, { threadId: threadId.data, clientRunId: clientRunId.data, runId: started.runId }, fromSeq);
  },

  async resume(
    deps: AgUiRouteDeps,
    req: IncomingMessage,
    res: ServerResponse,
    target: { task: TaskRecord; access: StreamAccess },
  ): Promise<void> {
    const after = lastEventIdOf(req.headers["last-event-id"]);
    const { task, access } = target;
    const idle = task.status !== "queued" && task.status !== "running";
    // Nothing to resume: the thread has no run, or the client already has the end of the last one.
    if (task.runs === 0 || (idle && after && after.seq >= task.lastSeq)) {
      res.writeHead(204).end();
      return;
    }
    const run = { threadId: task.taskId, clientRunId: task.clientRunId ?? task.runId, runId: task.runId, ...(after ? { after } : {}) };
    await streamRun(deps.streams(), res, access, run, task.runFromSeq);
  },
};

/** The run from its first event (frames the client has are skipped), ending after its terminal event. */
async function streamRun(
  deps: TaskStreamDeps,
  res: ServerResponse,
  access: StreamAccess,
  run: { threadId: string; clientRunId: string; runId: string; after?: FramePosition },
  fromSeq: number,
) {
  await openTaskStream(deps, res, {
    protocol: "ag_ui",
    taskId: run.threadId,
    sinceSeq: fromSeq,
    format: new AgUiFormat(run),
    access,
    headers: {},
    endAfter: (event) => isTerminalEventType(event.type) && envelopeOf(event).runId === run.runId,
  });
}
