import { io } from "socket.io-client";
import { bump, type SoakStats } from "./stats.js";

/** Hostile but well-formed Socket.IO frames: unknown events, output events sent as input, bad shapes, oversize text. */
const FRAMES: readonly [string, unknown][] = [
  ["agent_started", { input: "I am not a worker" }],
  ["no_such_command", {}],
  ["subscribe", { taskId: 42 }],
  ["subscribe", { taskId: "t_does_not_exist" }],
  ["user_message", { text: "" }],
  ["user_message", { text: "x".repeat(100_000) }],
  ["user_response", { taskId: "t_x" }],
  ["cancel", "not an object"],
  ["report_gap", { taskId: "t_x", expectedSeq: -1, gotSeq: "a" }],
  ["subscribe", JSON.parse('{"__proto__": {"polluted": true}, "taskId": "t_y"}')],
];

/** Sends a bad frame every `everyMs` until `until`; each must be answered with `{ ok: false, error: { code } }`. */
export async function badFrames(opts: { url: string; token: string; until: number; everyMs: number; stats: SoakStats }): Promise<void> {
  const socket = io(opts.url, { auth: { token: opts.token }, transports: ["websocket"], reconnectionDelay: 200 });
  try {
    for (let i = 0; Date.now() < opts.until && i < 1_000_000; i++) {
      const [name, payload] = FRAMES[i % FRAMES.length] as [string, unknown];
      opts.stats.badFrames++;
      try {
        const ack = (await socket.timeout(5_000).emitWithAck(name, payload)) as { ok?: boolean; error?: { code?: unknown } };
        if (ack?.ok === false && typeof ack.error?.code === "string") {
          opts.stats.badFramesAnswered++;
          bump(opts.stats.badFrameCodes, ack.error.code);
        }
      } catch {
        bump(opts.stats.badFrameCodes, "no answer");
      }
      await new Promise((r) => setTimeout(r, opts.everyMs));
    }
  } finally {
    socket.close();
  }
}
