import type { IncomingMessage, ServerResponse } from "node:http";
import { isTerminalEventType } from "@agentcast/protocol";
import type { TaskRecord } from "@agentcast/store";
import { optionalIntParam } from "../http/request-input.js";
import { BodyError } from "../http/respond.js";
import { envelopeOf } from "./envelope-of.js";
import { lastEventIdOf } from "./event-id.js";
import { plainSseFormat, sseFrame } from "./sse-format.js";
import { openTaskStream, type StreamAccess, type TaskStreamDeps } from "./task-stream.js";

/**
 * Where a resuming HTTP stream starts: `Last-Event-ID` (what `EventSource` sends on reconnect) wins over
 * `?sinceSeq=`; neither is 0 (from the start). A malformed value is `invalid_payload`.
 */
export function resumeSeq(req: IncomingMessage, url: URL): number {
  const last = lastEventIdOf(req.headers["last-event-id"]);
  if (last) return last.seq;
  return optionalIntParam(url, "sinceSeq", 0, Number.MAX_SAFE_INTEGER) ?? 0;
}

/**
 * `GET /v1/tasks/:taskId/stream`: the task's events as plain resumable SSE. `?follow=run` ends the response
 * after the current run's terminal event — at once when the task is idle and the client is past its last event.
 */
export async function serveTaskSse(
  deps: TaskStreamDeps,
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
  target: { task: TaskRecord; access: StreamAccess },
): Promise<void> {
  const sinceSeq = resumeSeq(req, url);
  const follow = url.searchParams.get("follow");
  if (follow !== null && follow !== "run") throw new BodyError("invalid_payload", 'follow: must be "run" (or absent: follow every run)');
  const { task, access } = target;
  const idle = task.status !== "queued" && task.status !== "running";
  await openTaskStream(deps, res, {
    protocol: "sse",
    taskId: task.taskId,
    sinceSeq,
    format: plainSseFormat,
    access,
    headers: {},
    prelude: (start) => (start.truncated ? sseFrame("truncated", JSON.stringify({ firstSeq: start.firstSeq })) : undefined),
    ...(follow === "run"
      ? {
          endAtOnce: (start) => idle && sinceSeq >= start.lastSeq,
          endAfter: (event) => isTerminalEventType(event.type) && envelopeOf(event).runId === task.runId,
        }
      : {}),
  });
}
