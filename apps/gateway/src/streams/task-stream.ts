import type { ServerResponse } from "node:http";
import type { ReadGrant } from "@agentcast/store";
import type { Logger } from "pino";
import type { Namespace } from "socket.io";
import type { ReadTokenSessions } from "../auth/read-token-sessions.js";
import { sendError } from "../http/respond.js";
import type { ConnectionLeases } from "../limits/connection-leases.js";
import type { OutboundEvent } from "../subscriptions/outbound-event.js";
import type { SubscriptionStart } from "../subscriptions/subscription.js";
import type { SubscriptionRegistry } from "../subscriptions/subscription-registry.js";
import { HttpStreamViewer, type StreamFormat } from "./http-stream-viewer.js";

export type StreamProtocol = "sse" | "ag_ui" | "ai_sdk";

/** Who opens a stream: a user (bearer token) or a read token's holder, as the task's owner. */
export interface StreamAccess {
  userId: string;
  /** When the credential expires (epoch ms): the stream ends then with `token_expired`. */
  expiresAtMs: number | undefined;
  readToken?: ReadGrant;
}

export interface TaskStreamDeps {
  nsp: Namespace;
  registry: SubscriptionRegistry;
  leases: Pick<ConnectionLeases, "take">;
  sessions: ReadTokenSessions;
  /** Still live? Checked once the stream is in the task's room, so a revocation cannot slip between. */
  readTokenLive: (token: ReadGrant) => Promise<boolean>;
  heartbeatMs: number;
  maxOutboundBytes: number;
  closeGraceMs: number;
  /** Open streams by protocol (the gauge reads it). */
  open: Map<StreamProtocol, number>;
  onOpened: (protocol: StreamProtocol) => void;
  onLimited: (limit: "connections_per_user" | "slow_consumer") => void;
  logger: Logger;
}

export interface TaskStreamOptions {
  protocol: StreamProtocol;
  taskId: string;
  /** Deliver events with seq above this. */
  sinceSeq: number;
  format: StreamFormat;
  access: StreamAccess;
  headers: Record<string, string>;
  /** Frames written before any event, once the start is known (e.g. `truncated`). */
  prelude?: (start: SubscriptionStart) => string | undefined;
  /** True ends the stream right after this event. */
  endAfter?: (event: OutboundEvent) => boolean;
  /** End the stream right after the prelude (nothing left to follow). */
  endAtOnce?: (start: SubscriptionStart) => boolean;
}

const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * Opens one task's events as an HTTP stream: a place under the user's connection cap, the task room
 * (confirmed) and the history from `sinceSeq` merged with live events by the subscription registry —
 * the same path as a socket's subscription, so the same guarantees: gapless, in order, no duplicates,
 * resumable on any gateway. Heartbeats keep it open; it ends when the client goes, at the credential's
 * expiry, when its read token is revoked, or past the outbound bound (slow consumer).
 */
export async function openTaskStream(deps: TaskStreamDeps, res: ServerResponse, opts: TaskStreamOptions): Promise<void> {
  const { protocol, taskId, access } = opts;
  let viewer: HttpStreamViewer | undefined;
  viewer = new HttpStreamViewer({
    res,
    nsp: deps.nsp,
    format: opts.format,
    maxOutboundBytes: deps.maxOutboundBytes,
    closeGraceMs: deps.closeGraceMs,
    onSlow: () => deps.onLimited("slow_consumer"),
    ...(opts.endAfter ? { afterWrite: (event) => opts.endAfter?.(event) && viewer?.end() } : {}),
  });
  const release = await deps.leases.take(access.userId, viewer.id);
  if (!release) {
    deps.onLimited("connections_per_user");
    return sendError(res, "limit_exceeded", "Too many connections and streams for this user; close one and retry");
  }
  const log = deps.logger.child({ streamId: viewer.id, taskId, protocol });
  const timers: NodeJS.Timeout[] = [];
  let releaseSession: (() => void) | undefined;
  let counted = false;
  let cleaned = false;
  const cleanup = () => {
    if (cleaned) return;
    cleaned = true;
    if (viewer) deps.registry.dropViewer(viewer.id);
    for (const t of timers) clearTimeout(t);
    release();
    releaseSession?.();
    if (counted) deps.open.set(protocol, (deps.open.get(protocol) ?? 1) - 1);
  };
  // A response closes when it ended or when its client went (the connection closed): either way, all is released.
  res.once("close", cleanup);
  try {
    await using lease = deps.registry.lease(viewer);
    lease.secure(taskId);
    const start = await lease.open(taskId, opts.sinceSeq);
    if (access.readToken && !(await deps.readTokenLive(access.readToken))) {
      return sendError(res, "token_invalid", "The read token was revoked or has expired");
    }
    if (res.destroyed) return; // the client went while we joined
    res.writeHead(200, {
      "content-type": "text/event-stream; charset=utf-8",
      "cache-control": "no-cache, no-transform",
      "x-accel-buffering": "no",
      ...opts.headers,
    });
    res.flushHeaders();
    counted = true;
    deps.open.set(protocol, (deps.open.get(protocol) ?? 0) + 1);
    deps.onOpened(protocol);
    viewer.writeRaw(opts.prelude?.(start));
    if (opts.endAtOnce?.(start)) {
      viewer.end();
      return;
    }
    lease.commit();
  } catch (err) {
    cleanup();
    throw err;
  }
  const v = viewer;
  if (access.readToken) {
    releaseSession = deps.sessions.hold(access.readToken.tokenId, () => v.end("token_invalid", "The read token was revoked"));
  }
  const heartbeat = setInterval(() => v.writeRaw(opts.format.heartbeat()), deps.heartbeatMs);
  heartbeat.unref();
  timers.push(heartbeat);
  if (access.expiresAtMs !== undefined) {
    const inMs = Math.max(0, Math.min(access.expiresAtMs - Date.now(), MAX_TIMER_MS));
    timers.push(setTimeout(() => v.end("token_expired", "The token expired; reconnect with a fresh one to resume"), inMs).unref());
  }
  log.debug({ sinceSeq: opts.sinceSeq }, "stream opened");
}
