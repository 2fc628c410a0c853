import { type EventData, type EventType, isEventType, PROTOCOL_VERSION, taskIdOfRoom } from "@agentcast/protocol";

/**
 * The wire contract between the worker's publish script and the gateways, in one place: how an
 * event's envelope is laid out, how it is wrapped as a `@socket.io/redis-adapter` sharded broadcast
 * (ClusterAdapter BROADCAST, JSON form) on which shard channel, and how a gateway reads it back
 * without parsing it. The stock `@socket.io/redis-emitter` PUBLISHes on the classic channel and
 * never reaches a sharded adapter, which SSUBSCRIBEs. `test/wire.test.ts` pins the writing side
 * against the installed adapter; `apps/gateway/test/adapter-hooks.test.ts` pins the reading side.
 */
export const DEFAULT_CHANNEL_PREFIX = "socket.io";
/** ClusterAdapter MessageType.BROADCAST. */
export const CLUSTER_BROADCAST = 3;
/** socket.io-parser PacketType.EVENT. */
export const EVENT_PACKET = 2;
/** The uid the adapter recognises as a non-server emitter. */
export const EMITTER_UID = "emitter";
/** The Socket.IO event name every agent event is sent on. */
export const EVENT_NAME = "event";
/** `4` (Engine.IO message) + `2` (Socket.IO EVENT) + `["event",`: an event packet's bytes before its argument. */
export const EVENT_PACKET_HEAD = `4${EVENT_PACKET}["${EVENT_NAME}",`;

/** Shard channel the sharded adapter subscribes to for `room` in dynamic mode. */
export function roomChannel(room: string, channelPrefix = DEFAULT_CHANNEL_PREFIX, nsp = "/"): string {
  return `${channelPrefix}#${nsp}#${room}#`;
}

export interface BroadcastFrame {
  /** Shard channel the adapter subscribes to for this room in dynamic mode. */
  channel: string;
  /** The message is `prefix + JSON(argument) + suffix`. */
  prefix: string;
  suffix: string;
}

/** Frame for emitting `eventName` with one JSON argument to exactly one room. */
export function broadcastFrame(room: string, eventName = EVENT_NAME, channelPrefix = DEFAULT_CHANNEL_PREFIX, nsp = "/"): BroadcastFrame {
  const ns = JSON.stringify(nsp);
  return {
    channel: roomChannel(room, channelPrefix, nsp),
    prefix:
      `{"uid":"${EMITTER_UID}","nsp":${ns},"type":${CLUSTER_BROADCAST},"data":{"opts":{"rooms":[${JSON.stringify(room)}],` +
      `"except":[],"flags":{}},"packet":{"type":${EVENT_PACKET},"data":[${JSON.stringify(eventName)},`,
    suffix: `],"nsp":${ns}}}}`,
  };
}

/** `v`, `seq`, `type` and `ts` lead every envelope we write, in this order: readers find them without parsing the rest. */
const ENVELOPE_HEAD = `{"v":${PROTOCOL_VERSION},"seq":`;

export interface EnvelopeFields<T extends EventType = EventType> {
  type: T;
  ts: number;
  id: string;
  taskId: string;
  runId: string;
  userId: string;
  data: EventData<T>;
}

/**
 * An envelope's JSON split around `seq`, which only the publish script knows: the stored and
 * published bytes are `head + seq + tail`.
 */
export function envelopeParts(e: EnvelopeFields): { head: string; tail: string } {
  const { type, ts, id, taskId, runId, userId, data } = e;
  return { head: ENVELOPE_HEAD, tail: `,${JSON.stringify({ type, ts, id, taskId, runId, userId, data }).slice(1)}` };
}

// ---- reading it back (gateways) ----

/** A task event as our publish script wrote it, read off the raw shard-channel message. */
export interface TaskFrame {
  taskId: string;
  room: string;
  seq: number;
  type: EventType;
  ts: number;
  /** The envelope's `id`: a failover that lost an event can give its seq to another, with another id. */
  id: string;
  /** The envelope's JSON bytes, exactly as published (a view into the message). */
  envelopeJson: Buffer;
}

// The broadcast wrapper around the envelope, split around the room name.
const MARK = "\u0000";
const wrapper = broadcastFrame(MARK);
const [HEAD_TEXT, MID_TEXT] = wrapper.prefix.split(JSON.stringify(MARK)) as [string, string];
const HEAD = Buffer.from(`${HEAD_TEXT}"`);
const MID = Buffer.from(`"${MID_TEXT}`);
const TAIL = Buffer.from(wrapper.suffix);
const CHANNEL_HEAD = Buffer.from(`${DEFAULT_CHANNEL_PREFIX}#/#`);
const ENVELOPE_HEAD_BYTES = Buffer.from(ENVELOPE_HEAD);
const TYPE_MARK = Buffer.from(',"type":"');
const TS_MARK = Buffer.from('","ts":');
const ID_MARK = Buffer.from(',"id":"');

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const HASH = 0x23;
const CLOSE_BRACE = 0x7d;

function matchesAt(buf: Buffer, offset: number, bytes: Buffer): boolean {
  return offset + bytes.length <= buf.length && buf.compare(bytes, 0, bytes.length, offset, offset + bytes.length) === 0;
}

/**
 * The decimal digits at `offset`: the number and where it stopped, or undefined when there are none
 * or more than 15 (beyond 15 digits a JS number may not hold the value exactly; seq and ts never get there).
 */
function readInt(buf: Buffer, offset: number): [number, number] | undefined {
  let n = 0;
  let i = offset;
  for (; i < buf.length; i++) {
    const c = buf[i] as number;
    if (c < 0x30 || c > 0x39) break;
    if (i - offset === 15) return undefined;
    n = n * 10 + (c - 0x30);
  }
  return i === offset ? undefined : [n, i];
}

/**
 * Reads a task event published by our script (`{"v":1,"seq":N,"type":"…","ts":T,…}` wrapped in the
 * sharded adapter's broadcast to exactly the channel's room) without JSON-parsing it, so a gateway can
 * write the envelope bytes to its sockets as they are. Anything else — another emitter, another
 * envelope layout, a room other than the channel's — returns undefined and takes the adapter's own path.
 */
export function parseTaskFrame(raw: Buffer, channel: Buffer): TaskFrame | undefined {
  // The channel is `socket.io#/#<room>#`; the message must broadcast to exactly that room.
  if (!matchesAt(channel, 0, CHANNEL_HEAD) || channel[channel.length - 1] !== HASH) return undefined;
  const roomStart = CHANNEL_HEAD.length;
  const roomEnd = channel.length - 1;
  const roomLength = roomEnd - roomStart;
  if (!matchesAt(raw, 0, HEAD)) return undefined;
  if (raw.compare(channel, roomStart, roomEnd, HEAD.length, HEAD.length + roomLength) !== 0) return undefined;
  for (let i = roomStart; i < roomEnd; i++)
    if (channel[i] === QUOTE || channel[i] === BACKSLASH || (channel[i] as number) < 0x20) return undefined;
  const envStart = HEAD.length + roomLength + MID.length;
  const envEnd = raw.length - TAIL.length;
  if (!matchesAt(raw, HEAD.length + roomLength, MID) || envEnd <= envStart || !matchesAt(raw, envEnd, TAIL)) return undefined;
  const head = readEnvelopeHead(raw, envStart, envEnd);
  if (!head) return undefined;
  const room = channel.toString("latin1", roomStart, roomEnd);
  const taskId = taskIdOfRoom(room);
  if (!taskId) return undefined;
  return { taskId, room, ...head, envelopeJson: raw.subarray(envStart, envEnd) };
}

/**
 * `seq`, `type`, `ts` and `id` of an envelope in `buf[start, end)` as our publish script writes it (`v`,
 * `seq`, `type`, `ts`, `id` lead, in this order), without parsing the rest; undefined for any other layout.
 */
export function readEnvelopeHead(
  buf: Buffer,
  start: number,
  end: number,
): { seq: number; type: EventType; ts: number; id: string } | undefined {
  if (end - start < ENVELOPE_HEAD_BYTES.length || buf[end - 1] !== CLOSE_BRACE || !matchesAt(buf, start, ENVELOPE_HEAD_BYTES))
    return undefined;
  const seq = readInt(buf, start + ENVELOPE_HEAD_BYTES.length);
  if (!seq || !matchesAt(buf, seq[1], TYPE_MARK)) return undefined;
  const typeStart = seq[1] + TYPE_MARK.length;
  const typeEnd = buf.indexOf(QUOTE, typeStart);
  if (typeEnd < 0 || typeEnd >= end || typeEnd - typeStart > 32 || !matchesAt(buf, typeEnd, TS_MARK)) return undefined;
  const type = buf.toString("latin1", typeStart, typeEnd);
  const ts = readInt(buf, typeEnd + TS_MARK.length);
  if (!isEventType(type) || !ts || !matchesAt(buf, ts[1], ID_MARK)) return undefined;
  const idStart = ts[1] + ID_MARK.length;
  const idEnd = buf.indexOf(QUOTE, idStart);
  if (idEnd <= idStart || idEnd >= end || idEnd - idStart > 128 || buf.subarray(idStart, idEnd).includes(BACKSLASH)) return undefined;
  return { seq: seq[0], type, ts: ts[0], id: buf.toString("utf8", idStart, idEnd) };
}
