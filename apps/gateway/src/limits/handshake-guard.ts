import type { IncomingMessage } from "node:http";
import type { KeyedBuckets } from "./token-bucket.js";

export type HandshakeRefusal = "draining" | "origin" | "connect_rate";

export interface HandshakeGuardOptions {
  /** Allowed browser origins ("*" = any; empty = no check). Requests without an Origin header (non-browser clients) pass. */
  origins: readonly string[];
  trustProxy: boolean;
  perIp: KeyedBuckets;
  isDraining: () => boolean;
  onRefused: (why: HandshakeRefusal) => void;
}

/**
 * Engine.IO `allowRequest`: runs before every handshake and websocket upgrade, for both transports
 * (CORS alone does not cover websocket). Refuses while draining, from origins outside the
 * allowlist, and above the per-IP new-connection rate.
 */
export function createHandshakeGuard(opts: HandshakeGuardOptions) {
  const anyOrigin = opts.origins.length === 0 || opts.origins.includes("*");
  return (req: IncomingMessage, callback: (err: string | null | undefined, success: boolean) => void) => {
    const refuse = (why: HandshakeRefusal) => {
      opts.onRefused(why);
      callback(why, false);
    };
    if (opts.isDraining()) return refuse("draining");
    const origin = req.headers.origin;
    if (!anyOrigin && origin !== undefined && !opts.origins.includes(origin)) return refuse("origin");
    // Only new sessions count: polling requests and upgrades of an existing session carry a sid.
    const isNewSession = !new URL(req.url ?? "/", "http://x").searchParams.has("sid");
    if (isNewSession && opts.perIp.take(clientIp(req, opts.trustProxy)) > 0) return refuse("connect_rate");
    callback(null, true);
  };
}

export function clientIp(req: IncomingMessage, trustProxy: boolean): string {
  const forwarded = req.headers["x-forwarded-for"];
  if (trustProxy && typeof forwarded === "string") return forwarded.split(",")[0]?.trim() || "unknown";
  return req.socket.remoteAddress ?? "unknown";
}
