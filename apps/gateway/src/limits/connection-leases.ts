import type { Supervised } from "@agentcast/runtime";
import type { Logger } from "pino";
import type { UserLimits } from "./user-limits.js";

/** Gives a connection's place under the per-user cap back (idempotent). */
export type ReleaseLease = () => void;

export interface ConnectionLeases {
  /**
   * Takes one of the user's places under the cap for `connectionId`: resolves with its release, or null
   * when the user is at the cap (nothing taken). When the cap cannot be checked (a Redis error) the
   * connection is admitted without a lease — the cap fails open — and `onCheckFailed` counts it.
   */
  take(userId: string, connectionId: string): Promise<ReleaseLease | null>;
  /** Renews every held lease each third of the lease, so they lapse on their own only if this gateway dies. */
  start(): void;
  stop(): void;
}

export interface ConnectionLeasesOptions {
  userLimits: Pick<UserLimits, "openConnection" | "closeConnection" | "renew">;
  /** CONNECTION_LEASE_MS: how long a lease outlives its gateway's last renewal. */
  leaseMs: number;
  supervisor: Supervised;
  /** The cap could not be checked (a Redis error): the connection is admitted without a lease, logged and counted here. */
  onCheckFailed: () => void;
  logger: Logger;
}

/**
 * The per-user connection cap's leases held by this gateway: one per admitted connection, from the
 * handshake (before the socket connects) until its release, renewed in the background meanwhile.
 */
export function createConnectionLeases(opts: ConnectionLeasesOptions): ConnectionLeases {
  const held = new Map<string, string>(); // connectionId → userId
  const renewEveryMs = Math.max(1, Math.floor(opts.leaseMs / 3));
  let timer: NodeJS.Timeout | undefined;
  const renew = () => {
    if (held.size === 0) return;
    const leases = [...held].map(([connectionId, userId]): [string, string] => [userId, connectionId]);
    opts.supervisor.run("lease_renewal", () => opts.userLimits.renew(leases), { connections: leases.length });
  };
  return {
    async take(userId, connectionId) {
      try {
        if (!(await opts.userLimits.openConnection(userId, connectionId))) return null;
      } catch (err) {
        opts.onCheckFailed();
        opts.logger.warn(
          { err, userId, connectionId, limit: "connections_per_user" },
          "limit check failed; connection admitted (fails open)",
        );
        return () => {};
      }
      held.set(connectionId, userId);
      return () => {
        if (!held.delete(connectionId)) return;
        opts.supervisor.run("connection_release", () => opts.userLimits.closeConnection(userId, connectionId), { userId, connectionId });
      };
    },
    start() {
      timer ??= setInterval(renew, renewEveryMs);
      timer.unref();
    },
    stop() {
      clearInterval(timer);
      timer = undefined;
    },
  };
}
