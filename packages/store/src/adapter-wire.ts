/**
 * The wire format of `@socket.io/redis-adapter`'s sharded adapter (ClusterAdapter BROADCAST, JSON
 * form), so a process without Socket.IO can emit to a room. The stock `@socket.io/redis-emitter`
 * PUBLISHes on the classic channel and never reaches a sharded adapter, which SSUBSCRIBEs.
 * `test/adapter-wire.test.ts` pins this against the installed adapter.
 */
export const DEFAULT_CHANNEL_PREFIX = "socket.io";
/** ClusterAdapter MessageType.BROADCAST. */
const BROADCAST = 3;
/** socket.io-parser PacketType.EVENT. */
const EVENT_PACKET = 2;
/** The uid the adapter recognises as a non-server emitter. */
const EMITTER_UID = "emitter";

export interface BroadcastFrame {
  /** Shard channel the adapter subscribes to for this room in dynamic mode. */
  channel: string;
  /** The message is `prefix + JSON(argument) + suffix`. */
  prefix: string;
  suffix: string;
}

/** Frame for emitting `eventName` with one JSON argument to exactly one room. */
export function broadcastFrame(room: string, eventName: string, channelPrefix = DEFAULT_CHANNEL_PREFIX, nsp = "/"): BroadcastFrame {
  const ns = JSON.stringify(nsp);
  return {
    channel: `${channelPrefix}#${nsp}#${room}#`,
    prefix:
      `{"uid":"${EMITTER_UID}","nsp":${ns},"type":${BROADCAST},"data":{"opts":{"rooms":[${JSON.stringify(room)}],` +
      `"except":[],"flags":{}},"packet":{"type":${EVENT_PACKET},"data":[${JSON.stringify(eventName)},`,
    suffix: `],"nsp":${ns}}}}`,
  };
}
