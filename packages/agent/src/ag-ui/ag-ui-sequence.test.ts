import { describe, expect, it } from "vitest";
import { type AgUiEventFields, AgUiSequence } from "./ag-ui-sequence.js";
import { sseData } from "./sse-data.js";

const run = (events: AgUiEventFields[]) => {
  const seq = new AgUiSequence();
  return events.map((e) => seq.check(e));
};
const S = { type: "RUN_STARTED" };

describe("AgUiSequence", () => {
  it("accepts a well-ordered run", () => {
    expect(
      run([
        S,
        { type: "REASONING_START", messageId: "r" },
        { type: "REASONING_MESSAGE_START", messageId: "r" },
        { type: "REASONING_MESSAGE_CONTENT", messageId: "r" },
        { type: "REASONING_MESSAGE_END", messageId: "r" },
        { type: "TOOL_CALL_START", toolCallId: "t" },
        { type: "TOOL_CALL_ARGS", toolCallId: "t" },
        { type: "TOOL_CALL_END", toolCallId: "t" },
        { type: "TEXT_MESSAGE_START", messageId: "m" },
        { type: "TEXT_MESSAGE_CONTENT", messageId: "m" },
        { type: "TOOL_CALL_RESULT", toolCallId: "t" },
        { type: "TEXT_MESSAGE_END", messageId: "m" },
        { type: "RUN_FINISHED" },
      ]),
    ).toEqual(Array(13).fill(null));
  });

  it.each([
    ["content before RUN_STARTED", [{ type: "TEXT_MESSAGE_START", messageId: "m" }], "TEXT_MESSAGE_START before RUN_STARTED"],
    ["a second RUN_STARTED", [S, S], "a second RUN_STARTED"],
    ["content of a message never opened", [S, { type: "TEXT_MESSAGE_CONTENT", messageId: "x" }], "not open"],
    [
      "a message opened twice",
      [S, { type: "TEXT_MESSAGE_START", messageId: "m" }, { type: "TEXT_MESSAGE_START", messageId: "m" }],
      "already open",
    ],
    ["args of a call never started", [S, { type: "TOOL_CALL_ARGS", toolCallId: "t" }], "not open"],
    [
      "a result before the call's end",
      [S, { type: "TOOL_CALL_START", toolCallId: "t" }, { type: "TOOL_CALL_RESULT", toolCallId: "t" }],
      "before its TOOL_CALL_END",
    ],
    ["a result for an unknown call", [S, { type: "TOOL_CALL_RESULT", toolCallId: "t" }], "never started"],
    [
      "two results for one call",
      [
        S,
        { type: "TOOL_CALL_START", toolCallId: "t" },
        { type: "TOOL_CALL_END", toolCallId: "t" },
        { type: "TOOL_CALL_RESULT", toolCallId: "t" },
        { type: "TOOL_CALL_RESULT", toolCallId: "t" },
      ],
      "a second TOOL_CALL_RESULT",
    ],
    ["finishing with a message open", [S, { type: "TEXT_MESSAGE_START", messageId: "m" }, { type: "RUN_FINISHED" }], "still open"],
    ["anything after the end", [S, { type: "RUN_ERROR" }, { type: "TEXT_MESSAGE_START", messageId: "m" }], "after the run ended"],
  ] as [string, AgUiEventFields[], string][])("refuses %s, and the refusal changes nothing", (_what, events, why) => {
    const results = run(events);
    expect(results.slice(0, -1).every((r) => r === null)).toBe(true);
    expect(results.at(-1)).toContain(why);
  });

  it("a refused event leaves the state as it was", () => {
    const seq = new AgUiSequence();
    seq.check(S);
    expect(seq.check({ type: "TEXT_MESSAGE_END", messageId: "m" })).not.toBeNull();
    expect(seq.check({ type: "TEXT_MESSAGE_START", messageId: "m" })).toBeNull();
    expect(seq.check({ type: "TEXT_MESSAGE_END", messageId: "m" })).toBeNull();
    expect(seq.check({ type: "RUN_FINISHED" })).toBeNull();
  });
});

describe("sseData", () => {
  const body = (...chunks: string[]) =>
    new ReadableStream<Uint8Array>({
      start(c) {
        for (const chunk of chunks) c.enqueue(new TextEncoder().encode(chunk));
        c.close();
      },
    });
  const all = async (stream: ReadableStream<Uint8Array>) => {
    const out: string[] = [];
    for await (const d of sseData(stream, 64)) out.push(d);
    return out;
  };

  it("frames events across chunk boundaries, joins data lines, skips comments and other fields, takes CRLF, drops an unfinished last event", async () => {
    expect(
      await all(
        body('data: {"a"', ":1}\n\n: heartbeat\n\nid: 3\nevent: x\ndata: one\ndata: two\n\n", "data: crlf\r\n\r\ndata: unfinished"),
      ),
    ).toEqual(['{"a":1}', "one\ntwo", "crlf"]);
  });

  it("refuses an event larger than its bound", async () => {
    await expect(all(body(`data: ${"x".repeat(100)}\n\n`))).rejects.toThrow("larger than 64 bytes");
    await expect(all(body("x".repeat(100)))).rejects.toThrow("longer than 64 bytes");
  });
});
