import type { OutboundEvent } from "../subscriptions/outbound-event.js";
import type { StreamFormat } from "./http-stream-viewer.js";

const END = Buffer.from("\n\n");

/** One SSE frame: `event` (when given), `data` as one line (JSON never holds a raw newline), `id` (when given). */
export function sseFrame(event: string | undefined, data: string, id?: string): string {
  return `${id === undefined ? "" : `id: ${id}\n`}${event === undefined ? "" : `event: ${event}\n`}data: ${data}\n\n`;
}

/**
 * Plain resumable SSE (`GET /v1/tasks/:taskId/stream`): `id: <seq>`, `event: <type>`, `data: <envelope>`,
 * so `EventSource` resumes with `Last-Event-ID` on its own; `task_reset` and `error` frames carry no id.
 */
export const plainSseFormat: StreamFormat = {
  event(event: OutboundEvent) {
    const json = event.json();
    const head = `id: ${event.seq}\nevent: ${event.type}\ndata: `;
    return typeof json === "string" ? `${head}${json}\n\n` : Buffer.concat([Buffer.from(head), json, END]);
  },
  reset: (taskId) => sseFrame("task_reset", JSON.stringify({ taskId, reason: "history_rewritten" })),
  error: (code, message) => sseFrame("error", JSON.stringify({ code, message })),
  heartbeat: () => ": heartbeat\n\n",
};
