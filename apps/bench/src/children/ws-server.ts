import type { AddressInfo } from "node:net";
import { type WebSocket, WebSocketServer } from "ws";
import { nowUs, sleep } from "../common/clock.js";
import { ownMemory, serveRpc } from "../common/ipc.js";
import { pace } from "../common/pacer.js";
import { eventJson } from "../common/payload.js";
import { streamTokens, type TokenSchedule } from "../common/tokens.js";

/** Raw `ws` baseline: rooms from the URL (?room=), and an in-process publisher that writes straight to the sockets. */
const rooms = new Map<string, Set<WebSocket>>();
const wss = new WebSocketServer({ host: "127.0.0.1", port: 0, perMessageDeflate: false });
wss.on("connection", (ws, req) => {
  const room = new URL(req.url ?? "/", "http://x").searchParams.get("room") ?? "";
  const set = rooms.get(room) ?? new Set<WebSocket>();
  rooms.set(room, set);
  set.add(ws);
  ws.on("close", () => {
    set.delete(ws);
    if (set.size === 0) rooms.delete(room);
  });
  ws.on("error", () => ws.terminate());
});
const listening = new Promise<void>((resolve) => wss.once("listening", resolve));

serveRpc({
  async port() {
    await listening;
    return (wss.address() as AddressInfo).port;
  },
  memory: () => ownMemory(),
  connections: () => wss.clients.size,
  /** The `llm` scenario: one stream per room, one message per token, written straight to the room's sockets. */
  async streamTokens(args: { rooms: string[]; schedules: TokenSchedule[] }) {
    await Promise.all(
      args.rooms.map((room, s) =>
        streamTokens(
          args.schedules[s] as TokenSchedule,
          (token) => {
            const msg = `{"delta":"${token}"}`;
            const set = rooms.get(room);
            if (set) for (const ws of set) ws.send(msg);
            return undefined;
          },
          sleep,
        ),
      ),
    );
    return true;
  },
  /** Publishes round-robin (or at random) over `targets` at `rate` for `durationMs`. */
  async publish(args: { rate: number; durationMs: number; targets: string[]; random?: boolean }) {
    const counts = new Uint32Array(args.targets.length);
    return pace({
      rate: args.rate,
      durationMs: args.durationMs,
      maxInFlight: Number.POSITIVE_INFINITY,
      send: (i) => {
        const t = args.random ? Math.floor(Math.random() * args.targets.length) : i % args.targets.length;
        const n = (counts[t] ?? 0) + 1;
        counts[t] = n;
        const msg = eventJson(nowUs(), n);
        const set = rooms.get(args.targets[t] as string);
        if (set) for (const ws of set) ws.send(msg);
        return undefined;
      },
    });
  },
});
