import { ERROR_CODES } from "@agentcast/protocol";
import type { Socket } from "socket.io";
import { bearerToken, type VerifiedToken } from "./token-verifier.js";

/**
 * Socket.IO middleware: the token comes from `auth.token` or an `Authorization: Bearer` header.
 * A refusal is a `connect_error` with message "unauthorized" and `data: { code, message }`.
 */
export function socketAuth(
  verify: (token: string | undefined) => Promise<VerifiedToken>,
  onFailure?: (code: string) => void,
  /** Admits the connection (e.g. the per-user connection cap); false refuses it with limit_exceeded. */
  admit?: (userId: string, socket: Socket) => Promise<boolean>,
) {
  return (socket: Socket, next: (err?: Error) => void) => {
    const fromAuth = (socket.handshake.auth as Record<string, unknown> | undefined)?.token;
    const token = typeof fromAuth === "string" && fromAuth.length > 0 ? fromAuth : bearerToken(socket.handshake.headers.authorization);
    verify(token).then(
      (result) => {
        if (result.ok) {
          socket.data.userId = result.userId;
          socket.data.expiresAt = result.expiresAt;
          if (!admit) return next();
          return admit(result.userId, socket).then(
            (ok) => {
              if (ok) return next();
              onFailure?.("limit_exceeded");
              const err = new Error("limit_exceeded") as Error & { data: unknown };
              err.data = { code: "limit_exceeded", message: "Too many connections for this user; close one and retry" };
              next(err);
            },
            () => next(), // the cap is best effort: Redis trouble must not lock users out
          );
        }
        onFailure?.(result.code);
        const err = new Error("unauthorized") as Error & { data: unknown };
        err.data = { code: result.code, message: ERROR_CODES[result.code].message };
        next(err);
      },
      (err: unknown) => next(err instanceof Error ? err : new Error(String(err))),
    );
  };
}
