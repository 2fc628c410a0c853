import { LIMITS } from "@agentcast/protocol";
import { type GatewayTestClient, signDevToken } from "@agentcast/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Stack, startStack } from "./fixture.js";
import { rawHttp } from "./raw-engine-io.js";

/** What a request answered: "ok" or the error code. */
type Outcome = string;
interface HttpCall {
  path: string;
  method?: "GET" | "POST";
  body?: unknown;
  headers?: Record<string, string>;
}

const TOO_LONG = "z".repeat(LIMITS.maxTextChars + 1);
const TOO_LONG_EMOJI = "\u{1F600}".repeat(LIMITS.maxTextChars + 1);
const MAX_SAFE = Number.MAX_SAFE_INTEGER;

describe("one code per mistake, whichever door it comes through", () => {
  let stack: Stack;
  let owner: GatewayTestClient;
  let intruder: GatewayTestClient;
  let ownedTask: string;
  beforeAll(async () => {
    // No worker: the owner's task stays queued (busy) for the whole file.
    stack = await startStack({
      gateways: 1,
      workers: 0,
      gatewayEnv: { RATE_LIMIT_COMMANDS_BURST: "200", RATE_LIMIT_COMMANDS_PER_SEC: "100" },
    });
    owner = await stack.client("doors-owner");
    intruder = await stack.client("doors-intruder");
    ownedTask = (await stack.http("/v1/tasks", { userId: "doors-owner", body: { text: "a task that stays queued" } })).body.taskId;
  });
  afterAll(() => stack?.stop());

  const socketOutcome = async (client: GatewayTestClient, event: string, payload: unknown): Promise<Outcome> => {
    const ack = (await client.raw(event, payload)) as { ok: boolean; error?: { code: string } };
    return ack.ok ? "ok" : (ack.error?.code ?? "no code");
  };
  const httpOutcome = async (userId: string, call: HttpCall): Promise<Outcome> => {
    const body = call.body === undefined ? undefined : JSON.stringify(call.body);
    const res = await rawHttp(stack.gateways[0]?.url ?? "", call.path, {
      method: call.method ?? (body === undefined ? "GET" : "POST"),
      ...(body === undefined ? {} : { body }),
      headers: {
        authorization: `Bearer ${await signDevToken(userId)}`,
        ...(body === undefined ? {} : { "content-type": "application/json" }),
        ...call.headers,
      },
    });
    return res.status < 300 ? "ok" : (JSON.parse(res.body) as { error: { code: string } }).error.code;
  };

  /** [mistake, socket command, socket payload, HTTP request, expected code]; `TASK` is replaced by the owner's task. */
  type Row = [string, string, (task: string) => unknown, (task: string) => HttpCall, Outcome, ("owner" | "intruder")?];
  const post = (body: unknown): HttpCall => ({ path: "/v1/tasks", body });
  const events = (task: string, query = "") => ({ path: `/v1/tasks/${task}/events${query}` });
  const both: Row[] = [
    ["text empty after trimming", "user_message", () => ({ text: "   " }), () => post({ text: "   " }), "invalid_payload"],
    ["text not a string", "user_message", () => ({ text: 5 }), () => post({ text: 5 }), "invalid_payload"],
    ["text missing", "user_message", () => ({}), () => post({}), "invalid_payload"],
    ["text too long", "user_message", () => ({ text: TOO_LONG }), () => post({ text: TOO_LONG }), "payload_too_large"],
    ["text too long in emoji", "user_message", () => ({ text: TOO_LONG_EMOJI }), () => post({ text: TOO_LONG_EMOJI }), "payload_too_large"],
    ["unknown key", "user_message", () => ({ text: "hi", extra: 1 }), () => post({ text: "hi", extra: 1 }), "invalid_payload"],
    [
      "taskId malformed",
      "user_message",
      () => ({ text: "hi", taskId: "bad id" }),
      () => post({ text: "hi", taskId: "bad id" }),
      "invalid_payload",
    ],
    [
      "taskId of 65 characters",
      "user_message",
      () => ({ text: "hi", taskId: "t".repeat(65) }),
      () => post({ text: "hi", taskId: "t".repeat(65) }),
      "invalid_payload",
    ],
    [
      "messageId malformed",
      "user_message",
      () => ({ text: "hi", messageId: "order.1234" }),
      () => post({ text: "hi", messageId: "order.1234" }),
      "invalid_payload",
    ],
    [
      "message id malformed (Idempotency-Key header)",
      "user_message",
      () => ({ text: "hi", messageId: "order.1234" }),
      () => ({ path: "/v1/tasks", body: { text: "hi" }, headers: { "idempotency-key": "order.1234" } }),
      "invalid_payload",
    ],
    [
      "follow-up on an unknown task",
      "user_message",
      () => ({ text: "hi", taskId: "t_nope" }),
      () => post({ text: "hi", taskId: "t_nope" }),
      "not_found",
    ],
    [
      "follow-up on another user's task",
      "user_message",
      (t) => ({ text: "hi", taskId: t }),
      (t) => post({ text: "hi", taskId: t }),
      "forbidden",
      "intruder",
    ],
    ["follow-up on a busy task", "user_message", (t) => ({ text: "hi", taskId: t }), (t) => post({ text: "hi", taskId: t }), "task_busy"],
    [
      "sinceSeq negative",
      "subscribe",
      () => ({ taskId: "t_nope", sinceSeq: -1 }),
      () => events("t_nope", "?sinceSeq=-1"),
      "invalid_payload",
    ],
    [
      "sinceSeq fractional",
      "subscribe",
      () => ({ taskId: "t_nope", sinceSeq: 1.5 }),
      () => events("t_nope", "?sinceSeq=1.5"),
      "invalid_payload",
    ],
    [
      "sinceSeq 2**60",
      "subscribe",
      () => ({ taskId: "t_nope", sinceSeq: 2 ** 60 }),
      () => events("t_nope", `?sinceSeq=${2n ** 60n}`),
      "invalid_payload",
    ],
    [
      "sinceSeq 2**53",
      "subscribe",
      () => ({ taskId: "t_nope", sinceSeq: 2 ** 53 }),
      () => events("t_nope", `?sinceSeq=${2 ** 53}`),
      "invalid_payload",
    ],
    [
      "sinceSeq not a number",
      "subscribe",
      () => ({ taskId: "t_nope", sinceSeq: "abc" }),
      () => events("t_nope", "?sinceSeq=abc"),
      "invalid_payload",
    ],
    ["sinceSeq empty", "subscribe", () => ({ taskId: "t_nope", sinceSeq: "" }), () => events("t_nope", "?sinceSeq="), "invalid_payload"],
    ["taskId malformed (subscribe)", "subscribe", () => ({ taskId: "bad id" }), () => events("bad%20id"), "invalid_payload"],
    [
      "taskId of 65 characters (subscribe)",
      "subscribe",
      () => ({ taskId: "t".repeat(65) }),
      () => events("t".repeat(65)),
      "invalid_payload",
    ],
    ["unknown task (subscribe)", "subscribe", () => ({ taskId: "t_nope" }), () => events("t_nope"), "not_found"],
    ["another user's task (subscribe)", "subscribe", (t) => ({ taskId: t }), (t) => events(t), "forbidden", "intruder"],
    [
      "sinceSeq at the largest safe integer",
      "subscribe",
      (t) => ({ taskId: t, sinceSeq: MAX_SAFE }),
      (t) => events(t, `?sinceSeq=${MAX_SAFE}`),
      "ok",
    ],
  ];

  it.each(both)("%s: socket and HTTP answer the same code", async (_mistake, event, payload, call, code, who = "owner") => {
    const client = who === "owner" ? owner : intruder;
    const userId = who === "owner" ? "doors-owner" : "doors-intruder";
    const [viaSocket, viaHttp] = [await socketOutcome(client, event, payload(ownedTask)), await httpOutcome(userId, call(ownedTask))];
    expect({ socket: viaSocket, http: viaHttp }).toEqual({ socket: code, http: code });
  });

  /** Parameters only the HTTP API has: the same rule (a malformed or out-of-range number is invalid_payload). */
  const httpOnly: [string, HttpCall, Outcome][] = [
    ...["0", "101", "1.5", "", "abc", "1e1", String(2n ** 60n)].map((v): [string, HttpCall, Outcome] => [
      `GET /v1/tasks?limit=${v}`,
      { path: `/v1/tasks?limit=${v}` },
      "invalid_payload",
    ]),
    ...["", "0", "-1", "1.5", "abc", " 1", String(2n ** 60n)].map((v): [string, HttpCall, Outcome] => [
      `GET /v1/tasks?cursor=${v}`,
      { path: `/v1/tasks?cursor=${encodeURIComponent(v)}` },
      "invalid_payload",
    ]),
    ...["0", String(LIMITS.maxEventsPerPage + 1), ""].map((v): [string, HttpCall, Outcome] => [
      `events?limit=${v}`,
      events("t_nope", `?limit=${v}`),
      "invalid_payload",
    ]),
    ["task path with malformed percent-encoding", { path: "/v1/tasks/%E0%A4%A" }, "invalid_payload"],
    ["body over maxRequestBodyBytes", post({ text: "x".repeat(LIMITS.maxRequestBodyBytes) }), "payload_too_large"],
  ];

  it.each(httpOnly)("HTTP only — %s → %s", async (_name, call, code) => {
    expect(await httpOutcome("doors-owner", call)).toBe(code);
  });

  it("a valid cursor still pages: a cursor from nextCursor returns the older tasks", async () => {
    const page1 = await stack.http("/v1/tasks?limit=1", { userId: "doors-owner" });
    expect(page1.body.tasks).toHaveLength(1);
    expect(page1.body.nextCursor).toMatch(/^[1-9]\d*$/);
  });

  /** Fields only the socket has: the same rule. */
  const socketOnly: [string, string, unknown, Outcome][] = [
    ["report_gap expectedSeq 2**60", "report_gap", { taskId: "t_nope", expectedSeq: 2 ** 60, gotSeq: 1 }, "invalid_payload"],
    ["report_gap gotSeq negative", "report_gap", { taskId: "t_nope", expectedSeq: 1, gotSeq: -1 }, "invalid_payload"],
    ["report_gap expectedSeq 0", "report_gap", { taskId: "t_nope", expectedSeq: 0, gotSeq: 1 }, "invalid_payload"],
    ["user_response too long", "user_response", { taskId: "t_nope", questionId: "q_1", response: TOO_LONG }, "payload_too_large"],
    [
      "user_response too long in emoji",
      "user_response",
      { taskId: "t_nope", questionId: "q_1", response: TOO_LONG_EMOJI },
      "payload_too_large",
    ],
    [
      "user_response maxResponseChars emoji (within the limit)",
      "user_response",
      { taskId: "t_nope", questionId: "q_1", response: "\u{1F600}".repeat(LIMITS.maxResponseChars) },
      "not_found",
    ],
    [
      "user_response questionId of 129 characters",
      "user_response",
      { taskId: "t_nope", questionId: "q".repeat(129), response: "" },
      "invalid_payload",
    ],
    ["auth_refresh token too long", "auth_refresh", { token: "x".repeat(8_193) }, "payload_too_large"],
    ["auth_refresh token empty", "auth_refresh", { token: "" }, "invalid_payload"],
  ];

  it.each(socketOnly)("socket only — %s → %s", async (_name, event, payload, code) => {
    expect(await socketOutcome(owner, event, payload)).toBe(code);
  });
});
