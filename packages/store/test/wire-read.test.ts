import { taskRoom } from "@agentcast/protocol";
import { describe, expect, it } from "vitest";
import { broadcastFrame, parseTaskFrame } from "../src/wire.js";

const taskId = "t_abc-DEF_123";
const room = taskRoom(taskId);
const channel = Buffer.from(`socket.io#/#${room}#`);
const envelope = '{"v":1,"seq":42,"type":"agent_output","ts":1796113876889,"id":"e1","taskId":"t","data":{"delta":"é ✓ \\" ]}"}}';
const message = (env: string, r = room) => {
  const f = broadcastFrame(r, "event");
  return Buffer.from(f.prefix + env + f.suffix);
};

describe("parseTaskFrame (raw task events from our publish script)", () => {
  it("reads seq, type and ts, and the envelope bytes exactly as published", () => {
    const frame = parseTaskFrame(message(envelope), channel);
    expect(frame).toMatchObject({ taskId, room, seq: 42, type: "agent_output", ts: 1796113876889 });
    expect(frame?.envelopeJson.toString()).toBe(envelope);
    expect(JSON.parse(frame?.envelopeJson.toString() ?? "")).toMatchObject({ seq: 42, data: { delta: 'é ✓ " ]}' } });
  });

  it.each([
    ["another envelope layout", '{"v":1,"id":"e1","seq":42,"type":"agent_output","ts":1}'],
    ["another protocol version", '{"v":2,"seq":42,"type":"agent_output","ts":1,"id":"e"}'],
    ["an unknown event type", '{"v":1,"seq":42,"type":"agent_party","ts":1,"id":"e"}'],
    ["a seq that is not a number", '{"v":1,"seq":"42","type":"agent_output","ts":1,"id":"e"}'],
    ["a missing ts", '{"v":1,"seq":42,"type":"agent_output","id":"e"}'],
    ["a truncated envelope", '{"v":1,"seq":42,"type":"agent_output","ts":1,"id":"e"'],
  ])("leaves %s to the adapter's own JSON path", (_why, env) => {
    expect(parseTaskFrame(message(env), channel)).toBeUndefined();
  });

  it("refuses a message for a room other than the channel's, a user room, or a message that is not ours", () => {
    expect(parseTaskFrame(message(envelope, taskRoom("t_other")), channel)).toBeUndefined();
    const userChannel = Buffer.from("socket.io#/#user:u1#");
    expect(parseTaskFrame(message(envelope, "user:u1"), userChannel)).toBeUndefined();
    const notOurs = Buffer.from(message(envelope).toString().replace('"uid":"emitter"', '"uid":"abc"'));
    expect(parseTaskFrame(notOurs, channel)).toBeUndefined();
    expect(parseTaskFrame(Buffer.from([0x83, 0xa3]), channel)).toBeUndefined(); // msgpack
    expect(parseTaskFrame(message(envelope), Buffer.from(`other#/#${room}#`))).toBeUndefined();
    const twoRooms = Buffer.from(message(envelope).toString().replace(`"rooms":["${room}"]`, `"rooms":["${room}","x"]`));
    expect(parseTaskFrame(twoRooms, channel)).toBeUndefined();
  });
});
