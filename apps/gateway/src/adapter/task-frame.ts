import { type EventType, isEventType, PROTOCOL_VERSION, taskIdOfRoom } from "@agentcast/protocol";
import { broadcastFrame, DEFAULT_CHANNEL_PREFIX } from "@agentcast/store";

/** A task event as our publish script wrote it, read off the raw shard-channel message. */
export interface TaskFrame {
  taskId: string;
  room: string;
  seq: number;
  type: EventType;
  ts: number;
  /** The envelope's JSON bytes, exactly as published (a view into the message). */
  envelopeJson: Buffer;
}

// The broadcast wrapper around the envelope, split around the room name (adapter-wire.ts is the one
// definition; `task-frame.test.ts` beside this file builds its messages with it).
const MARK = "\u0000";
const wrapper = broadcastFrame(MARK, "event");
const [HEAD_TEXT, MID_TEXT] = wrapper.prefix.split(JSON.stringify(MARK)) as [string, string];
const HEAD = Buffer.from(`${HEAD_TEXT}"`);
const MID = Buffer.from(`"${MID_TEXT}`);
const TAIL = Buffer.from(wrapper.suffix);
const CHANNEL_HEAD = Buffer.from(`${DEFAULT_CHANNEL_PREFIX}#/#`);
const ENVELOPE_HEAD = Buffer.from(`{"v":${PROTOCOL_VERSION},"seq":`);
const TYPE_MARK = Buffer.from(',"type":"');
const TS_MARK = Buffer.from('","ts":');

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;

function matchesAt(buf: Buffer, offset: number, bytes: Buffer): boolean {
  return offset + bytes.length <= buf.length && buf.compare(bytes, 0, bytes.length, offset, offset + bytes.length) === 0;
}

/** The decimal digits at `offset` (at most 16): the number and where it stopped, or undefined if there are none. */
function readInt(buf: Buffer, offset: number): [number, number] | undefined {
  let n = 0;
  let i = offset;
  for (; i < buf.length && i - offset < 16; i++) {
    const c = buf[i] as number;
    if (c < 0x30 || c > 0x39) break;
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
  if (!matchesAt(channel, 0, CHANNEL_HEAD) || channel[channel.length - 1] !== 0x23) return undefined;
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
 * `seq`, `type` and `ts` of an envelope in `buf[start, end)` as our publish script writes it (`v`,
 * `seq`, `type`, `ts` lead, in this order), without parsing the rest; undefined for any other layout.
 */
export function readEnvelopeHead(buf: Buffer, start: number, end: number): { seq: number; type: EventType; ts: number } | undefined {
  if (end - start < ENVELOPE_HEAD.length || buf[end - 1] !== 0x7d || !matchesAt(buf, start, ENVELOPE_HEAD)) return undefined;
  const seq = readInt(buf, start + ENVELOPE_HEAD.length);
  if (!seq || !matchesAt(buf, seq[1], TYPE_MARK)) return undefined;
  const typeStart = seq[1] + TYPE_MARK.length;
  const typeEnd = buf.indexOf(QUOTE, typeStart);
  if (typeEnd < 0 || typeEnd >= end || typeEnd - typeStart > 32 || !matchesAt(buf, typeEnd, TS_MARK)) return undefined;
  const type = buf.toString("latin1", typeStart, typeEnd);
  const ts = readInt(buf, typeEnd + TS_MARK.length);
  if (!isEventType(type) || !ts || buf[ts[1]] !== COMMA) return undefined;
  return { seq: seq[0], type, ts: ts[0] };
}
