import { ERROR_CODES, type ErrorCode } from "@agentcast/protocol";
import { isReadToken } from "@agentcast/store";
import type { ReleaseLease } from "../limits/connection-leases.js";
import type { GatewaySocket } from "../socketio/socket-server.js";
import { bearerToken, type TokenFailure, type VerifiedToken } from "./token-verifier.js";

/** A verified read token as a socket's identity: the task's owner, scoped to the task. */
export type ReaderToken =
  | { ok: true; userId: string; expiresAt: number; readScope: { taskId: string; tokenId: string } }
  | { ok: false; code: TokenFailure; reason: string };

export type ConnectLimit = "connections_per_user" | "sockets_per_connection";

export interface SocketAuthDeps {
  verify: (token: string | undefined) => Promise<VerifiedToken>;
  /** A read token (`rt.…`): what it opens, as its task's owner, or a failure. */
  verifyReadToken: (token: string) => Promise<ReaderToken>;
  /** A place under the per-user connection cap: its release, or null when the user is at the cap. */
  takeLease: (userId: string, connectionId: string) => Promise<ReleaseLease | null>;
  onAuthFailure: (code: TokenFailure) => void;
  onLimited: (limit: ConnectLimit) => void;
  /** A handshake whose Engine.IO connection closed before its socket connected. */
  onAbandoned: () => void;
}

/** The socket authenticating or connected on each Engine.IO connection (one user per connection). */
const carriedBy = new WeakMap<object, GatewaySocket>();

/**
 * Socket.IO middleware: one socket per Engine.IO connection, then the token (`auth.token` or an
 * `Authorization: Bearer` header), then a lease under the per-user connection cap. A refusal is a
 * `connect_error` with `data: { code, message }` (message "unauthorized" for a token, "limit_exceeded"
 * for a limit) and leaves nothing behind. The lease is held only while the connection exists: it is
 * released when the socket disconnects or its Engine.IO connection closes, connected or not.
 */
export function socketAuth(deps: SocketAuthDeps) {
  return (socket: GatewaySocket, next: (err?: Error) => void) => {
    const conn = socket.conn;
    const carrier = carriedBy.get(conn);
    if (carrier && carrier !== socket) {
      // Two CONNECT packets back to back would otherwise authenticate two users on one websocket.
      deps.onLimited("sockets_per_connection");
      return next(
        refusal("limit_exceeded", "limit_exceeded", "This connection already carries a socket; open a new connection for another one"),
      );
    }
    carriedBy.set(conn, socket);
    const free = () => {
      if (carriedBy.get(conn) === socket) carriedBy.delete(conn);
    };
    const gone = () => conn.readyState !== "open";
    const abandon = () => {
      deps.onAbandoned();
      next(new Error("the connection closed during the handshake"));
    };
    const admit = async () => {
      const token = tokenOf(socket);
      const result = token !== undefined && isReadToken(token) ? await deps.verifyReadToken(token) : await deps.verify(token);
      if (!result.ok) {
        deps.onAuthFailure(result.code);
        free();
        return next(refusal("unauthorized", result.code));
      }
      if (gone()) return abandon();
      const release = await deps.takeLease(result.userId, socket.id);
      if (!release) {
        deps.onLimited("connections_per_user");
        free();
        return next(refusal("limit_exceeded", "limit_exceeded", "Too many connections for this user; close one and retry"));
      }
      if (gone()) {
        release();
        return abandon();
      }
      // Whichever comes first; Socket.IO emits `disconnect` only for a socket that connected.
      let connected = false;
      const onDisconnect = () => {
        connected = true;
        conn.off("close", onClose);
        free();
        release();
      };
      const onClose = () => {
        socket.off("disconnect", onDisconnect);
        release();
        if (!connected) deps.onAbandoned();
      };
      socket.once("disconnect", onDisconnect);
      conn.once("close", onClose);
      socket.data.userId = result.userId;
      socket.data.expiresAt = result.expiresAt;
      if ("readScope" in result) socket.data.readScope = result.readScope;
      next();
    };
    admit().catch((err: unknown) => {
      free();
      next(err instanceof Error ? err : new Error(String(err)));
    });
  };
}

function tokenOf(socket: GatewaySocket): string | undefined {
  const fromAuth = (socket.handshake.auth as Record<string, unknown> | undefined)?.token;
  return typeof fromAuth === "string" && fromAuth.length > 0 ? fromAuth : bearerToken(socket.handshake.headers.authorization);
}

function refusal(message: string, code: ErrorCode, text: string = ERROR_CODES[code].message): Error & { data: unknown } {
  const err = new Error(message) as Error & { data: unknown };
  err.data = { code, message: text };
  return err;
}
