import type { Logger } from "pino";
import type { Namespace } from "socket.io";
import { closeWithin } from "../socketio/internals.js";

export interface DrainOptions {
  /** Spread the disconnects over this window so the other pods are not hit all at once. */
  windowMs: number;
  /** Pause between batches. */
  batchIntervalMs?: number;
  gatewayId: string;
  logger: Logger;
}

/**
 * Moves every client off this pod: each socket gets a `draining` notice, then its transport is
 * closed, which socket.io-client treats as a network drop and reconnects (through the load balancer,
 * to another pod) on its own; the client then resubscribes with sinceSeq. Batches are spread evenly
 * over the window. Resolves when all sockets are gone (or the window plus a grace period passed).
 */
export async function drainSockets(nsp: Namespace, opts: DrainOptions): Promise<number> {
  const interval = opts.batchIntervalMs ?? 100;
  const sockets = [...nsp.sockets.values()];
  const batches = Math.max(1, Math.floor(opts.windowMs / interval));
  const size = Math.max(1, Math.ceil(sockets.length / batches));
  opts.logger.info({ sockets: sockets.length, windowMs: opts.windowMs, batchSize: size }, "draining connections");
  for (let i = 0; i < sockets.length; i += size) {
    for (const socket of sockets.slice(i, i + size)) {
      if (!socket.connected) continue;
      socket.emit("draining", { gatewayId: opts.gatewayId, reconnect: true });
      // Closed within a second even if the client stopped reading (it would never drain the notice).
      closeWithin(socket, 1_000);
    }
    if (i + size < sockets.length) await new Promise((r) => setTimeout(r, interval));
  }
  const deadline = Date.now() + 2_000;
  while (nsp.sockets.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  return sockets.length;
}
