import type { IncomingMessage } from "node:http";
import type { KeyedBuckets } from "./token-bucket.js";

export type HandshakeRefusal = "draining" | "origin" | "connect_rate";

export interface HandshakeGuardOptions {
  /** Allowed browser origins ("*" = any; empty = no check). Requests without an Origin header (non-browser clients) pass. */
  origins: readonly string[];
  /** Proxies in front of the gateway whose X-Forwarded-For entries are believed (0 = none: the socket's peer is the client). */
  trustedProxyHops: number;
  perIp: KeyedBuckets;
  isDraining: () => boolean;
  onRefused: (why: HandshakeRefusal) => void;
}

/**
 * Engine.IO `allowRequest`: refuses while draining, from origins outside the allowlist, and above the
 * per-IP new-connection rate, for both transports (CORS alone does not cover websocket).
 *
 * Engine.IO calls it for exactly the requests that create a session: those whose `sid` query parameter
 * is absent or empty (its `verify` reads the last `sid` and tests it for truthiness; a request with an
 * unknown sid is refused before this, and polls and upgrades of an existing session never reach it).
 * So every call is one new session and is counted — whatever the query string looks like.
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
    if (opts.perIp.take(clientIp(req, opts.trustedProxyHops)) > 0) return refuse("connect_rate");
    callback(null, true);
  };
}

/**
 * The client's address as the outermost trusted proxy saw it (Express's `trust proxy` with a hop count):
 * starting at the socket's peer, step left through X-Forwarded-For once per trusted hop. Entries left of
 * that are written by the client and ignored. With fewer entries than hops, the leftmost one is taken.
 */
export function clientIp(req: IncomingMessage, trustedProxyHops: number): string {
  const peer = req.socket.remoteAddress ?? "unknown";
  const forwarded = req.headers["x-forwarded-for"];
  if (trustedProxyHops === 0 || typeof forwarded !== "string") return peer;
  const hops = forwarded.split(",").map((entry) => entry.trim());
  // hops[hops.length - 1] is what the nearest proxy saw; one further step left per further trusted proxy.
  const index = Math.max(0, hops.length - trustedProxyHops);
  return hops[index] || "unknown";
}
