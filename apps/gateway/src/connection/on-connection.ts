import { type ErrorBody, type ErrorCode, errorBody, userRoom } from "@agentcast/protocol";
import type { Supervised } from "@agentcast/runtime";
import type { Logger } from "pino";
import type { ReadTokenSessions } from "../auth/read-token-sessions.js";
import type { VerifiedToken } from "../auth/token-verifier.js";
import type { CommandContext } from "../commands/context.js";
import { attachCommands } from "../commands/dispatch.js";
import type { CommandAdmission } from "../limits/command-admission.js";
import { TokenBucket } from "../limits/token-bucket.js";
import type { GatewayMetrics } from "../metrics/gateway-metrics.js";
import type { GatewaySocket } from "../socketio/socket-server.js";

export interface ConnectionDeps
  extends Omit<CommandContext, "socket" | "viewer" | "userId" | "logger" | "setExpiry" | "verifyToken" | "readScope" | "readTokenLive"> {
  gatewayId: string;
  logger: Logger;
  metrics: GatewayMetrics;
  classifyError: (err: unknown) => ErrorCode;
  confirmRoom: (room: string) => Promise<void>;
  verifyToken: (token: string | undefined) => Promise<VerifiedToken>;
  /** The per-socket and per-user command limits (the same admission as the HTTP API's). */
  admitCommand: CommandAdmission;
  supervisor: Supervised;
  commandRate: { perSec: number; burst: number };
  clockSkewSeconds: number;
  /** Sockets opened with a read token, so a revocation disconnects them. */
  readTokenSessions: ReadTokenSessions;
  readTokenLive: (taskId: string, tokenId: string) => Promise<boolean>;
}

const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * An authenticated socket: user room, rate-limited commands, token expiry enforced while connected
 * (auth_refresh extends it), connection_established, one log line on open and close.
 */
export function onConnection(socket: GatewaySocket, deps: ConnectionDeps): void {
  const data = socket.data;
  const userId = data.userId;
  const log = deps.logger.child({ connectionId: socket.id, userId });
  const { metrics } = deps;
  metrics.connectionsOpened.inc();
  const openedAt = Date.now();
  let expiryTimer: NodeJS.Timeout | undefined;
  const setExpiry = (expiresAt: number | undefined) => {
    clearTimeout(expiryTimer);
    if (expiresAt === undefined) return;
    const inMs = (expiresAt + deps.clockSkewSeconds) * 1000 - Date.now();
    expiryTimer = setTimeout(
      () => {
        log.info("token expired during the connection");
        socket.emit(
          "error",
          errorBody("token_expired", "The token expired; reconnect with a fresh one (or send auth_refresh before expiry)"),
        );
        socket.disconnect(true);
      },
      Math.max(0, Math.min(inMs, MAX_TIMER_MS)),
    );
  };
  setExpiry(data.expiresAt);
  const scope = data.readScope;
  const releaseSession = scope
    ? deps.readTokenSessions.hold(scope.tokenId, () => {
        log.info({ taskId: scope.taskId }, "read token revoked during the connection");
        socket.emit("error", errorBody("token_invalid", "The read token was revoked"));
        socket.disconnect(true);
      })
    : undefined;
  socket.on("disconnect", (reason) => {
    clearTimeout(expiryTimer);
    releaseSession?.();
    metrics.disconnections.inc({ reason });
    deps.subscriptions.dropViewer(socket.id);
    // Its place under the per-user connection cap is released by auth/socket-auth.ts (it took it).
    log.info({ reason, durationMs: Date.now() - openedAt }, "connection closed");
  });
  const bucket = new TokenBucket(deps.commandRate.perSec, deps.commandRate.burst);
  const admit = (): Promise<ErrorBody | null> => deps.admitCommand(userId, bucket);
  attachCommands(
    {
      socket,
      viewer: deps.subscriptions.viewerOf(socket),
      userId,
      logger: log,
      tasks: deps.tasks,
      subscriptions: deps.subscriptions,
      runs: deps.runs,
      silentFailure: deps.silentFailure,
      watchAnswer: deps.watchAnswer,
      verifyToken: deps.verifyToken,
      setExpiry,
      ...(scope ? { readScope: scope, readTokenLive: () => deps.readTokenLive(scope.taskId, scope.tokenId) } : {}),
    },
    {
      onCommand: (command, outcome) => metrics.commands.inc({ command, outcome }),
      classifyError: deps.classifyError,
      admit,
    },
  );
  // A read token's holder is not its task's owner: it never hears of the owner's other tasks.
  const room = scope ? undefined : userRoom(userId);
  if (room) socket.join(room);
  // Confirmed before connection_established, so task_created notices published after it arrive.
  deps.supervisor.run(
    "user_room_confirm",
    async () => {
      try {
        if (room) await deps.confirmRoom(room);
      } finally {
        if (socket.connected) {
          socket.emit("connection_established", { connectionId: socket.id, userId, gatewayId: deps.gatewayId, protocol: 1 });
          log.info({ transport: socket.conn.transport.name }, "connection opened");
        }
      }
    },
    { userId, connectionId: socket.id },
  );
}
