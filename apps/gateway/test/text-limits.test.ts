import { LIMITS } from "@agentcast/protocol";
import { signDevToken } from "@agentcast/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Stack, startStack } from "./fixture.js";
import { rawHttp, rawSocketIo } from "./raw-engine-io.js";

const MAX = LIMITS.maxTextChars;
const EMOJI = "\u{1F600}"; // one character, two UTF-16 units, 4 bytes of UTF-8, 12 bytes as a JSON escape
/** Every UTF-16 unit of `s` as a JSON \u escape, as an ASCII-only encoder (Python's json.dumps) writes it. */
const escaped = (s: string) => Array.from({ length: s.length }, (_, i) => `\\u${s.charCodeAt(i).toString(16).padStart(4, "0")}`).join("");
/** A JSON object whose keys and string values are all written with \u escapes. */
const escapedJson = (fields: Record<string, string>) =>
  `{${Object.entries(fields)
    .map(([k, v]) => `"${escaped(k)}":"${escaped(v)}"`)
    .join(",")}}`;

describe("text limits count characters (code points), the same at both doors; the HTTP body admits the worst case", () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ gateways: 1, workers: 0, gatewayEnv: { RATE_LIMIT_COMMANDS_BURST: "100" } });
  });
  afterAll(() => stack?.stop());
  const url = () => stack.gateways[0]?.url ?? "";
  const post = async (body: string) => {
    const res = await rawHttp(url(), "/v1/tasks", {
      method: "POST",
      body,
      headers: { authorization: `Bearer ${await signDevToken("texts")}`, "content-type": "application/json" },
    });
    return { status: res.status, code: res.status === 202 ? "ok" : (JSON.parse(res.body) as { error: { code: string } }).error.code };
  };

  const texts: [string, string, "ok" | "payload_too_large" | "invalid_payload"][] = [
    ["maxTextChars ASCII", "y".repeat(MAX), "ok"],
    ["maxTextChars emoji (2 × maxTextChars UTF-16 units)", EMOJI.repeat(MAX), "ok"],
    ["maxTextChars control characters (6 bytes each in JSON)", "\u0001".repeat(MAX), "ok"],
    ["maxTextChars + 1 ASCII", "y".repeat(MAX + 1), "payload_too_large"],
    ["maxTextChars + 1 emoji", EMOJI.repeat(MAX + 1), "payload_too_large"],
    ["maxTextChars, then one space (the limit is on the text as sent)", `${"y".repeat(MAX)} `, "payload_too_large"],
    ["only whitespace", " \n\t ", "invalid_payload"],
  ];

  it.each(texts)("HTTP, as JSON.stringify writes it: %s → %s", async (_name, text, code) => {
    expect(await post(JSON.stringify({ text }))).toMatchObject({ code });
  });

  it.each(texts)("HTTP, every character \\u-escaped: %s → %s", async (_name, text, code) => {
    expect(await post(escapedJson({ text }))).toMatchObject({ code });
  });

  it.each(texts)("socket: %s → %s", async (_name, text, code) => {
    const c = await stack.client("texts-socket");
    const ack = (await c.command("user_message", { text })) as { ok: boolean; error?: { code: string } };
    expect(ack.ok ? "ok" : ack.error?.code).toBe(code);
    c.disconnect();
  });

  it("the largest body whose fields are all within their limits passes the body limit and the schema", async () => {
    const worst = escapedJson({ text: EMOJI.repeat(MAX), taskId: "t".repeat(64), messageId: "m".repeat(64) });
    expect(Buffer.byteLength(worst)).toBe(197_509); // the figure docs/protocol.md gives for LIMITS.maxRequestBodyBytes
    expect(Buffer.byteLength(worst)).toBeLessThanOrEqual(LIMITS.maxRequestBodyBytes);
    // Valid in every field: it reaches the task lookup (no such task), not a size or schema refusal.
    expect(await post(worst)).toEqual({ status: 404, code: "not_found" });
    const tooBig = `${worst.slice(0, -1)}${" ".repeat(LIMITS.maxRequestBodyBytes - Buffer.byteLength(worst) + 1)}}`;
    expect(await post(tooBig)).toEqual({ status: 413, code: "payload_too_large" });
  });

  it("socket: the same worst-case frame, byte for byte, is accepted", async () => {
    const raw = await rawSocketIo(url(), await signDevToken("texts-raw"));
    const text = escapedJson({ text: EMOJI.repeat(MAX), messageId: "m".repeat(64) });
    expect(await raw.emit(`["user_message",${text}]`)).toMatchObject({ ok: true, taskId: expect.any(String) });
    const over = escapedJson({ text: EMOJI.repeat(MAX + 1) });
    expect(await raw.emit(`["user_message",${over}]`)).toMatchObject({ ok: false, error: { code: "payload_too_large" } });
    raw.close();
  });
});
