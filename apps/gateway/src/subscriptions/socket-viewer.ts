import type { Socket } from "socket.io";
import { closeNow, isWritable, unsentBytes } from "../socketio/internals.js";
import type { SlowConsumers } from "./slow-consumers.js";
import type { Viewer } from "./viewer.js";

/** A Socket.IO socket as a viewer: events are `event` packets, a reset is `task_reset`. */
export class SocketViewer implements Viewer {
  constructor(
    readonly socket: Socket,
    private readonly slowConsumers: SlowConsumers,
  ) {}

  get id(): string {
    return this.socket.id;
  }
  join(room: string): void {
    this.socket.join(room);
  }
  leave(room: string): void {
    this.socket.leave(room);
  }
  isWritable(): boolean {
    return isWritable(this.socket);
  }
  isBackedUp(): boolean {
    return this.slowConsumers.isBackedUp(this.socket);
  }
  unsentBytes(): number {
    return unsentBytes(this.socket);
  }
  hasRoomFor(bytes: number): boolean {
    return this.slowConsumers.hasRoomFor(this.socket, bytes);
  }
  write(event: Parameters<Viewer["write"]>[0]): void {
    event.writeTo(this.socket);
  }
  reset(taskId: string): void {
    if (isWritable(this.socket)) this.socket.emit("task_reset", { taskId, reason: "history_rewritten" });
  }
  closeSlow(): void {
    this.slowConsumers.close(this.socket);
  }
  closeNow(): void {
    closeNow(this.socket);
  }
  disconnect(): void {
    if (this.socket.connected) this.socket.disconnect(true);
  }
}
