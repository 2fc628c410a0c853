import type { EventEnvelope } from "@agentcast/protocol";
import { taskIdOfRoom } from "@agentcast/protocol";
import { CLUSTER_BROADCAST, EVENT_NAME, EVENT_PACKET, parseTaskFrame, type RedisClient } from "@agentcast/store";
import { createShardedAdapter } from "@socket.io/redis-adapter";
import type { Namespace } from "socket.io";
import type { Adapter } from "socket.io-adapter";
import { interceptAdapterMessages } from "../socketio/internals.js";
import { EncodedEvent, type OutboundEvent, RawEvent } from "../subscriptions/outbound-event.js";

export type TaskEventHandler = (taskId: string, room: string, event: OutboundEvent) => void;
/** A gateway-to-gateway notice on a task room's channel (not for sockets): its name and argument. */
export type TaskNoticeHandler = (taskId: string, name: string, arg: unknown) => void;

interface ClusterMessage {
  uid?: string;
  nsp?: string;
  type?: number;
  data?: {
    requestId?: string;
    opts?: { rooms?: unknown[]; except?: unknown[] };
    packet?: { type?: number; data?: unknown[] };
  };
}

/**
 * The sharded Redis adapter (dynamic subscriptions: a pod only receives the rooms it holds), with
 * one change: a broadcast of `event` to a single `task:{id}` room is handed to `onTaskEvent`
 * instead of being written to every socket in the room. The gateway's subscriptions decide per
 * socket — deliver, hold back while the socket catches up on history, or drop a duplicate — so
 * each socket sees every seq once and in order. A message from our publish script is read off its
 * raw bytes (`parseTaskFrame`: seq, type, ts; the envelope JSON is written to sockets as it is);
 * any other message is parsed by the adapter as usual. A broadcast to a task room of an event named in
 * `notices` (e.g. a read token's revocation) is handed to `onNotice` and never reaches a socket.
 * `test/adapter-hooks.test.ts` pins both hooks against the installed adapter.
 */
export function createTaskEventAdapter(
  pub: RedisClient,
  sub: RedisClient,
  onTaskEvent: TaskEventHandler,
  notices: { names: ReadonlySet<string>; onNotice: TaskNoticeHandler } = { names: new Set(), onNotice: () => {} },
): (nsp: Namespace) => Adapter {
  const sharded = createShardedAdapter(pub, sub, { subscriptionMode: "dynamic" });
  // A plain function, not an arrow: Socket.IO calls it with `new`.
  return function taskEventAdapter(nsp: Namespace) {
    const adapter = sharded(nsp) as unknown as Adapter;
    interceptAdapterMessages<ClusterMessage>(adapter, {
      raw(raw, channel) {
        const frame = parseTaskFrame(raw, channel);
        if (frame) onTaskEvent(frame.taskId, frame.room, new RawEvent(frame.seq, frame.type, frame.ts, frame.envelopeJson, frame.id));
        return frame !== undefined;
      },
      parsed(message) {
        const notice = noticeOf(message, notices.names);
        if (notice) {
          notices.onNotice(notice.taskId, notice.name, notice.arg);
          return true;
        }
        const routed = routeOf(message);
        if (routed) onTaskEvent(routed.taskId, routed.room, new EncodedEvent(nsp, routed.envelope));
        return routed !== undefined;
      },
    });
    return adapter;
  };
}

function routeOf(m: ClusterMessage): { taskId: string; room: string; envelope: EventEnvelope } | undefined {
  if (m.type !== CLUSTER_BROADCAST || m.nsp !== "/" || !m.data || m.data.requestId !== undefined) return undefined;
  const rooms = m.data.opts?.rooms;
  const packet = m.data.packet;
  if (rooms?.length !== 1 || (m.data.opts?.except?.length ?? 0) > 0) return undefined;
  if (!packet || packet.type !== EVENT_PACKET || packet.data?.[0] !== EVENT_NAME || packet.data.length !== 2) return undefined;
  const room = rooms[0];
  if (typeof room !== "string") return undefined;
  const taskId = taskIdOfRoom(room);
  const envelope = packet.data[1] as EventEnvelope | undefined;
  if (!taskId || typeof envelope !== "object" || envelope === null || typeof envelope.seq !== "number") return undefined;
  return { taskId, room, envelope };
}

function noticeOf(m: ClusterMessage, names: ReadonlySet<string>): { taskId: string; name: string; arg: unknown } | undefined {
  if (names.size === 0 || m.type !== CLUSTER_BROADCAST || m.nsp !== "/" || !m.data) return undefined;
  const name = m.data.packet?.data?.[0];
  const room = m.data.opts?.rooms?.[0];
  if (typeof name !== "string" || !names.has(name) || typeof room !== "string") return undefined;
  const taskId = taskIdOfRoom(room);
  return taskId ? { taskId, name, arg: m.data.packet?.data?.[1] } : undefined;
}
