import type { EventData, EventEnvelope } from "@agentcast/protocol";
import type { OutboundEvent } from "../../subscriptions/outbound-event.js";
import { envelopeOf } from "../envelope-of.js";
import type { FramePosition } from "../event-id.js";
import type { StreamFormat } from "../http-stream-viewer.js";

/** An AG-UI event as this gateway writes it (validated against `@ag-ui/core`'s `EventSchemas` in tests). */
export type AgUiEvent = { type: string } & Record<string, unknown>;

/** The names of the CUSTOM events agentcast events become (AG-UI has no progress, and its interrupt ends the run). */
export const AG_UI_CUSTOM = { progress: "agentcast.progress", question: "agentcast.question" } as const;

export interface AgUiRun {
  threadId: string;
  /** The run id the client chose (RUN_STARTED and RUN_FINISHED carry it). */
  clientRunId: string;
  /** agentcast's run id: events of other runs are skipped. */
  runId: string;
  /** Frames up to here were delivered before: the run is replayed from its start to rebuild state, and these are not written again. */
  after?: FramePosition;
}

/**
 * One run as AG-UI events: RUN_STARTED first, text messages, reasoning, tool calls and results, CUSTOM
 * for progress and questions, RUN_FINISHED (outcome `cancelled` for a cancel) or RUN_ERROR last. Ids of
 * messages are derived from seqs, so a replay of the run from its start yields the same frames with the
 * same ids: a resume replays and skips what the client has. Every frame carries `id: <seq>`, or
 * `<seq>.<n>` when one agentcast event became several AG-UI events.
 */
export class AgUiFormat implements StreamFormat {
  readonly resetEnds = true;
  private openText: string | undefined;
  private openReasoning: string | undefined;
  private textSeen = false;
  private reasoningSeen = false;

  constructor(private readonly run: AgUiRun) {}

  event(event: OutboundEvent): string | undefined {
    const envelope = envelopeOf(event);
    if (envelope.runId !== this.run.runId) return undefined;
    const events = this.eventsOf(envelope);
    const after = this.run.after;
    const fresh = events
      .map((e, n) => ({ e: { ...e, timestamp: envelope.ts }, n }))
      .filter(({ n }) => !after || event.seq > after.seq || (event.seq === after.seq && n > after.n));
    const idOf = (n: number) => (events.length === 1 ? String(event.seq) : `${event.seq}.${n}`);
    return fresh.length === 0 ? undefined : fresh.map(({ e, n }) => frame(idOf(n), e)).join("");
  }

  reset(): string {
    return frame(undefined, {
      type: "RUN_ERROR",
      code: "history_rewritten",
      message: "History was rewritten (a failover); run the thread's stream again",
    });
  }

  error(code: string, message: string): string {
    return frame(undefined, { type: "RUN_ERROR", code, message });
  }

  heartbeat(): string {
    return ": heartbeat\n\n";
  }

  private eventsOf(e: EventEnvelope): AgUiEvent[] {
    const { threadId, clientRunId } = this.run;
    switch (e.type) {
      case "agent_started":
        return [{ type: "RUN_STARTED", threadId, runId: clientRunId }];
      case "agent_thinking": {
        const data = e.data as EventData<"agent_thinking">;
        if ("text" in data) {
          const messageId = `reasoning_${e.runId}_${e.seq}`;
          return [
            ...this.closeText(),
            ...this.closeReasoning(),
            { type: "REASONING_START", messageId },
            { type: "REASONING_MESSAGE_START", messageId, role: "reasoning" },
            ...(data.text ? [{ type: "REASONING_MESSAGE_CONTENT", messageId, delta: data.text }] : []),
            { type: "REASONING_MESSAGE_END", messageId },
            { type: "REASONING_END", messageId },
          ];
        }
        if ((data.snapshot && this.reasoningSeen) || data.delta === "") return [];
        return [...this.closeText(), ...this.reasoning(e, data.delta)];
      }
      case "agent_output": {
        const data = e.data as EventData<"agent_output">;
        if ((data.snapshot && this.textSeen) || data.delta === "") return [];
        return [...this.closeReasoning(), ...this.text(e, data.delta)];
      }
      case "tool_executing": {
        const { toolCallId, tool, args } = e.data as EventData<"tool_executing">;
        return [
          ...this.closeAll(),
          { type: "TOOL_CALL_START", toolCallId, toolCallName: tool },
          { type: "TOOL_CALL_ARGS", toolCallId, delta: JSON.stringify(args) },
          { type: "TOOL_CALL_END", toolCallId },
        ];
      }
      case "tool_completed": {
        const { toolCallId, ok, result, error } = e.data as EventData<"tool_completed">;
        const content = ok
          ? typeof result === "string"
            ? result
            : JSON.stringify(result ?? null)
          : `error: ${error ?? "the tool failed"}`;
        return [...this.closeAll(), { type: "TOOL_CALL_RESULT", messageId: `tool_${toolCallId}`, toolCallId, content, role: "tool" }];
      }
      case "progress_update":
        return [{ type: "CUSTOM", name: AG_UI_CUSTOM.progress, value: e.data }];
      case "agent_question":
        return [...this.closeAll(), { type: "CUSTOM", name: AG_UI_CUSTOM.question, value: e.data }];
      case "agent_completed": {
        const { status, result } = e.data as EventData<"agent_completed">;
        return [
          ...this.closeAll(),
          {
            type: "RUN_FINISHED",
            threadId,
            runId: clientRunId,
            outcome: { type: status === "cancelled" ? "cancelled" : "success" },
            ...(status === "succeeded" && result !== undefined && result !== null ? { result } : {}),
          },
        ];
      }
      case "agent_error": {
        const { code, message } = e.data as EventData<"agent_error">;
        return [...this.closeAll(), { type: "RUN_ERROR", code, message }];
      }
      default:
        return [];
    }
  }

  private text(e: EventEnvelope, delta: string): AgUiEvent[] {
    this.textSeen = true;
    const opening: AgUiEvent[] = [];
    if (!this.openText) {
      this.openText = `msg_${e.runId}_${e.seq}`;
      opening.push({ type: "TEXT_MESSAGE_START", messageId: this.openText, role: "assistant" });
    }
    return [...opening, { type: "TEXT_MESSAGE_CONTENT", messageId: this.openText, delta }];
  }

  private reasoning(e: EventEnvelope, delta: string): AgUiEvent[] {
    this.reasoningSeen = true;
    const opening: AgUiEvent[] = [];
    if (!this.openReasoning) {
      this.openReasoning = `reasoning_${e.runId}_${e.seq}`;
      opening.push(
        { type: "REASONING_START", messageId: this.openReasoning },
        { type: "REASONING_MESSAGE_START", messageId: this.openReasoning, role: "reasoning" },
      );
    }
    return [...opening, { type: "REASONING_MESSAGE_CONTENT", messageId: this.openReasoning, delta }];
  }

  private closeText(): AgUiEvent[] {
    const messageId = this.openText;
    this.openText = undefined;
    return messageId ? [{ type: "TEXT_MESSAGE_END", messageId }] : [];
  }

  private closeReasoning(): AgUiEvent[] {
    const messageId = this.openReasoning;
    this.openReasoning = undefined;
    return messageId
      ? [
          { type: "REASONING_MESSAGE_END", messageId },
          { type: "REASONING_END", messageId },
        ]
      : [];
  }

  private closeAll(): AgUiEvent[] {
    return [...this.closeReasoning(), ...this.closeText()];
  }
}

function frame(id: string | undefined, event: AgUiEvent): string {
  return `${id === undefined ? "" : `id: ${id}\n`}data: ${JSON.stringify(event)}\n\n`;
}
