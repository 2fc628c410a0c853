import type { EventData, EventEnvelope } from "@agentcast/protocol";
import type { OutboundEvent } from "../../subscriptions/outbound-event.js";
import { envelopeOf } from "../envelope-of.js";
import type { StreamFormat } from "../http-stream-viewer.js";

/** The headers the AI SDK's default chat transport expects on a UI message stream. */
export const UI_MESSAGE_STREAM_HEADERS = { "x-vercel-ai-ui-message-stream": "v1" } as const;

/** A UI message stream chunk (ai's `UIMessageChunk`), as this gateway writes them. */
export type UiChunk = { type: string } & Record<string, unknown>;

/** The assistant message id of a run: the same on the POST and on every resume, so the client replaces, never duplicates. */
export function messageIdOfRun(runId: string): string {
  return `msg_${runId}`;
}

/**
 * One run as the AI SDK's UI message stream protocol (`useChat`'s default transport): `start` first
 * (the run's message id), the run's events as reasoning, text, tool and data parts, `finish` last, then
 * `[DONE]`. Stateful per stream: it knows which text or reasoning part is open. Events of other runs of
 * the task are skipped. Every frame carries `id: <seq>` (`<seq>.<n>` when one event becomes several chunks).
 */
export class UiMessageStreamFormat implements StreamFormat {
  readonly resetEnds = true;
  private openText: string | undefined;
  private openReasoning: string | undefined;
  private textSeen = false;
  private reasoningSeen = false;
  private parts = 0;

  constructor(private readonly runId: string) {}

  /** The first frame: `start` with the run's message id. */
  start(): string {
    return frame(undefined, { type: "start", messageId: messageIdOfRun(this.runId) });
  }

  event(event: OutboundEvent): string | undefined {
    const envelope = envelopeOf(event);
    if (envelope.runId !== this.runId) return undefined;
    const chunks = this.chunksOf(envelope);
    if (chunks.length === 0) return undefined;
    const done = envelope.type === "agent_completed" || envelope.type === "agent_error";
    return (
      chunks.map((c, i) => frame(chunks.length === 1 ? String(event.seq) : `${event.seq}.${i}`, c)).join("") +
      (done ? "data: [DONE]\n\n" : "")
    );
  }

  reset(): string {
    return frame(undefined, { type: "error", errorText: "history_rewritten: reload the chat to replay the run" });
  }

  error(code: string, message: string): string {
    return frame(undefined, { type: "error", errorText: `${code}: ${message}` });
  }

  heartbeat(): string {
    return ": heartbeat\n\n";
  }

  private chunksOf(e: EventEnvelope): UiChunk[] {
    switch (e.type) {
      case "agent_started":
        return [{ type: "start-step" }];
      case "agent_thinking": {
        const data = e.data as EventData<"agent_thinking">;
        if ("text" in data) {
          const id = this.partId("reasoning");
          return [
            ...this.closeText(),
            ...this.closeReasoning(),
            { type: "reasoning-start", id },
            { type: "reasoning-delta", id, delta: data.text },
            { type: "reasoning-end", id },
          ];
        }
        if (data.snapshot && this.reasoningSeen) return []; // already delivered on this stream
        return [...this.closeText(), ...this.reasoning(data.delta)];
      }
      case "agent_output": {
        const data = e.data as EventData<"agent_output">;
        if (data.snapshot && this.textSeen) return [];
        return [...this.closeReasoning(), ...this.text(data.delta)];
      }
      case "tool_executing": {
        const { toolCallId, tool, args } = e.data as EventData<"tool_executing">;
        return [
          ...this.closeAll(),
          { type: "tool-input-start", toolCallId, toolName: tool },
          { type: "tool-input-available", toolCallId, toolName: tool, input: args },
        ];
      }
      case "tool_completed": {
        const { toolCallId, ok, result, error } = e.data as EventData<"tool_completed">;
        return [
          ...this.closeAll(),
          ok
            ? { type: "tool-output-available", toolCallId, output: result ?? null }
            : { type: "tool-output-error", toolCallId, errorText: error ?? "the tool failed" },
        ];
      }
      case "progress_update":
        return [{ type: "data-progress", id: "progress", data: e.data }];
      case "agent_question": {
        const data = e.data as EventData<"agent_question">;
        return [...this.closeAll(), { type: "data-question", id: data.questionId, data }];
      }
      case "agent_completed": {
        const { status } = e.data as EventData<"agent_completed">;
        const end: UiChunk[] = [...this.closeAll(), { type: "finish-step" }];
        if (status === "cancelled") end.push({ type: "abort", reason: "cancelled" });
        return [...end, { type: "finish", finishReason: status === "cancelled" ? "other" : "stop" }];
      }
      case "agent_error": {
        const { code, message } = e.data as EventData<"agent_error">;
        return [
          ...this.closeAll(),
          { type: "error", errorText: `${code}: ${message}` },
          { type: "finish-step" },
          { type: "finish", finishReason: "error" },
        ];
      }
      default:
        return [];
    }
  }

  private partId(kind: string): string {
    this.parts += 1;
    return `${kind}_${this.runId}_${this.parts}`;
  }

  private text(delta: string): UiChunk[] {
    this.textSeen = true;
    const opening: UiChunk[] = [];
    if (!this.openText) {
      this.openText = this.partId("text");
      opening.push({ type: "text-start", id: this.openText });
    }
    return [...opening, { type: "text-delta", id: this.openText, delta }];
  }

  private reasoning(delta: string): UiChunk[] {
    this.reasoningSeen = true;
    const opening: UiChunk[] = [];
    if (!this.openReasoning) {
      this.openReasoning = this.partId("reasoning");
      opening.push({ type: "reasoning-start", id: this.openReasoning });
    }
    return [...opening, { type: "reasoning-delta", id: this.openReasoning, delta }];
  }

  private closeText(): UiChunk[] {
    const id = this.openText;
    this.openText = undefined;
    return id ? [{ type: "text-end", id }] : [];
  }

  private closeReasoning(): UiChunk[] {
    const id = this.openReasoning;
    this.openReasoning = undefined;
    return id ? [{ type: "reasoning-end", id }] : [];
  }

  private closeAll(): UiChunk[] {
    return [...this.closeReasoning(), ...this.closeText()];
  }
}

function frame(id: string | undefined, chunk: UiChunk): string {
  return `${id === undefined ? "" : `id: ${id}\n`}data: ${JSON.stringify(chunk)}\n\n`;
}
