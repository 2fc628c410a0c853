import type { Server as HttpServer, IncomingMessage } from "node:http";
import { type ClientToServerEvents, LIMITS, type ServerToClientEvents } from "@agentcast/protocol";
import { Server, type Socket } from "socket.io";

/** What the gateway keeps on each authenticated socket. */
export interface SocketData {
  userId: string;
  /** The token's `exp` (epoch seconds); undefined = never. */
  expiresAt?: number | undefined;
  /** Set when the socket authenticated with a read token: it may only follow this task (`userId` is the task's owner). */
  readScope?: { taskId: string; tokenId: string } | undefined;
}

export type GatewayServer = Server<ClientToServerEvents, ServerToClientEvents, Record<string, never>, SocketData>;
export type GatewaySocket = Socket<ClientToServerEvents, ServerToClientEvents, Record<string, never>, SocketData>;

export interface SocketServerOptions {
  /** Allowed browser origins for CORS ("*" = any; empty = no CORS headers). */
  corsOrigins: readonly string[];
  /** Engine.IO `allowRequest`: runs for every request that would create a session (polling or websocket), before it does. */
  allowRequest: (req: IncomingMessage, callback: (err: string | null | undefined, success: boolean) => void) => void;
}

/** The Socket.IO server on the gateway's HTTP server: path, message size bound, handshake guard, CORS. */
export function createSocketServer(httpServer: HttpServer, opts: SocketServerOptions): GatewayServer {
  return new Server(httpServer, {
    path: "/socket.io",
    serveClient: false,
    maxHttpBufferSize: LIMITS.maxMessageBytes,
    allowRequest: opts.allowRequest,
    ...(opts.corsOrigins.length > 0 ? { cors: { origin: opts.corsOrigins.includes("*") ? true : [...opts.corsOrigins] } } : {}),
  });
}
