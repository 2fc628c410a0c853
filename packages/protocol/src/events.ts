import { z } from "zod";

/** Version of the wire protocol: `connection_established.protocol` and envelope `v`. */
export const PROTOCOL_VERSION = 1;

const jsonObject = z.record(z.string(), z.unknown());

/** Payload (`data`) schema of each agent event type. */
export const eventDataSchemas = {
  agent_started: z.object({ input: z.string() }),
  /** A whole thought (`text`), or reasoning streamed token by token (`delta`: append it to the run's reasoning). */
  agent_thinking: z.union([z.object({ text: z.string() }), z.object({ delta: z.string(), snapshot: z.literal(true).optional() })]),
  tool_executing: z.object({
    toolCallId: z.string().min(1),
    tool: z.string().min(1),
    args: jsonObject,
  }),
  tool_completed: z.object({
    toolCallId: z.string().min(1),
    tool: z.string().min(1),
    ok: z.boolean(),
    result: z.unknown().optional(),
    error: z.string().optional(),
    durationMs: z.number().nonnegative(),
  }),
  progress_update: z.object({
    percent: z.number().min(0).max(100),
    message: z.string(),
  }),
  /** `snapshot: true` only in replays of compacted history: `delta` is then the run's whole text so far (replace, do not append). */
  agent_output: z.object({ delta: z.string(), snapshot: z.literal(true).optional() }),
  agent_question: z.object({
    questionId: z.string().regex(/^[A-Za-z0-9_-]{1,128}$/),
    prompt: z.string(),
  }),
  agent_completed: z.object({
    status: z.enum(["succeeded", "cancelled"]),
    result: z.unknown().optional(),
  }),
  agent_error: z.object({
    code: z.string().min(1),
    message: z.string(),
    retryable: z.boolean(),
  }),
} as const;

export type EventType = keyof typeof eventDataSchemas;
export type EventData<T extends EventType> = z.infer<(typeof eventDataSchemas)[T]>;

export const EVENT_TYPES = Object.keys(eventDataSchemas) as EventType[];
export const TERMINAL_EVENT_TYPES: readonly EventType[] = ["agent_completed", "agent_error"];

export function isEventType(value: unknown): value is EventType {
  return typeof value === "string" && Object.hasOwn(eventDataSchemas, value);
}

export function isTerminalEventType(type: EventType): boolean {
  return type === "agent_completed" || type === "agent_error";
}

interface EnvelopeBase {
  v: typeof PROTOCOL_VERSION;
  /** Unique event id. */
  id: string;
  /** Per task, from 1, +1 per event across runs. */
  seq: number;
  taskId: string;
  runId: string;
  userId: string;
  /** Epoch milliseconds, set by the worker when the event was produced. */
  ts: number;
}

/** The envelope of every agent event, sent on the Socket.IO event `event`. */
export type EventEnvelope = {
  [T in EventType]: EnvelopeBase & { type: T; data: EventData<T> };
}[EventType];

export type EnvelopeOf<T extends EventType> = Extract<EventEnvelope, { type: T }>;

const envelopeBase = {
  v: z.literal(PROTOCOL_VERSION),
  id: z.string().min(1),
  seq: z.number().int().positive(),
  taskId: z.string().min(1),
  runId: z.string().min(1),
  userId: z.string().min(1),
  ts: z.number().int().nonnegative(),
};

export const eventEnvelopeSchema = z.discriminatedUnion(
  "type",
  EVENT_TYPES.map((type) => z.object({ ...envelopeBase, type: z.literal(type), data: eventDataSchemas[type] })) as unknown as [
    z.ZodObject,
    ...z.ZodObject[],
  ],
);

/** Validates an event's `data` against its type's schema; returns an error message or null. */
export function checkEventData(type: EventType, data: unknown): string | null {
  const result = eventDataSchemas[type].safeParse(data);
  return result.success ? null : z.prettifyError(result.error);
}
