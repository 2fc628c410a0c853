import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { createAdapter } from "@socket.io/redis-adapter";
import { Redis } from "ioredis";
import { Server } from "socket.io";
import { ownMemory, serveRpc } from "../common/ipc.js";

/**
 * Stock Socket.IO: websocket clients join the room named in their CONNECT auth. With REDIS_URL,
 * the classic `@socket.io/redis-adapter` (PUBLISH / PSUBSCRIBE) joins it to the other processes.
 */
const name = process.env.BENCH_NAME ?? `sio-${process.pid}`;
const redisUrl = process.env.REDIS_URL;
const http = createServer();
const io = new Server(http, { serveClient: false, transports: ["websocket"] });
if (redisUrl) {
  const pub = new Redis(redisUrl, { connectionName: `${name}:pub` });
  const sub = new Redis(redisUrl, { connectionName: `${name}:sub` });
  io.adapter(createAdapter(pub, sub));
}
io.on("connection", (socket) => {
  const room = (socket.handshake.auth as { room?: unknown }).room;
  if (typeof room === "string") socket.join(room);
});
const listening = new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve));

serveRpc({
  async port() {
    await listening;
    return (http.address() as AddressInfo).port;
  },
  memory: () => ownMemory(),
  connections: () => io.of("/").sockets.size,
});
