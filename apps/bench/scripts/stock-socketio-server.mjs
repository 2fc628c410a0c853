// A stock Socket.IO server (in-memory adapter, one room per socket) for heap-per-connection.mjs.
import { createServer } from "node:http";
import { Server } from "socket.io";

const http = createServer();
const io = new Server(http, { transports: ["websocket"] });
io.on("connection", (socket) => {
  socket.join(`user:${socket.id}`);
  socket.emit("connection_established", { connectionId: socket.id });
});
http.listen(0, "127.0.0.1", () => process.stdout.write(`${JSON.stringify({ port: http.address().port })}\n`));
