import { type ErrorCode, userRoom } from "@agentcast/protocol";
import type { Logger } from "pino";
import type { Socket } from "socket.io";
import type { CommandContext } from "../commands/context.js";
import { attachCommands } from "../commands/dispatch.js";
import type { GatewayMetrics } from "../metrics/gateway-metrics.js";

export interface ConnectionDeps extends Omit<CommandContext, "socket" | "userId" | "logger"> {
  gatewayId: string;
  logger: Logger;
  metrics: GatewayMetrics;
  classifyError: (err: unknown) => ErrorCode;
  confirmRoom: (room: string) => Promise<void>;
}

/** An authenticated socket: user room, commands, connection_established, one log line on open and close. */
export function onConnection(socket: Socket, deps: ConnectionDeps): void {
  const userId = (socket.data as { userId: string }).userId;
  const log = deps.logger.child({ connectionId: socket.id, userId });
  const { metrics } = deps;
  metrics.connectionsOpened.inc();
  const openedAt = Date.now();
  socket.on("disconnect", (reason) => {
    metrics.disconnections.inc({ reason });
    deps.subscriptions.dropSocket(socket.id);
    log.info({ reason, durationMs: Date.now() - openedAt }, "connection closed");
  });
  attachCommands(
    {
      socket,
      userId,
      logger: log,
      tasks: deps.tasks,
      subscriptions: deps.subscriptions,
      runs: deps.runs,
      silentFailure: deps.silentFailure,
      watchAnswer: deps.watchAnswer,
    },
    {
      onCommand: (command, outcome) => metrics.commands.inc({ command, outcome }),
      classifyError: deps.classifyError,
    },
  );
  const room = userRoom(userId);
  socket.join(room);
  // Confirmed before connection_established, so task_created notices published after it arrive.
  deps
    .confirmRoom(room)
    .catch((err: unknown) => log.warn({ err }, "user room subscription not confirmed"))
    .finally(() => {
      if (!socket.connected) return;
      socket.emit("connection_established", { connectionId: socket.id, userId, gatewayId: deps.gatewayId, protocol: 1 });
      log.info({ transport: socket.conn.transport.name }, "connection opened");
    });
}
