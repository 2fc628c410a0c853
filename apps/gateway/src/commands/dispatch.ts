import {
  type CommandName,
  commandSchemas,
  type ErrorBody,
  type ErrorCode,
  errorBody,
  isCommandName,
  payloadErrorOf,
} from "@agentcast/protocol";
import { CommandError } from "./command-error.js";
import type { CommandContext } from "./context.js";
import { handlers } from "./handlers.js";

type AckFn = (body: unknown) => void;

export interface DispatchHooks {
  onCommand?: (command: string, outcome: "ok" | ErrorCode) => void;
  /** Maps an unexpected error to a code (e.g. `unavailable` when Redis is down). */
  classifyError?: (err: unknown) => ErrorCode;
  /** Rate limits: resolves with an error to refuse the command, or null to run it. */
  admit?: (command: string) => Promise<ErrorBody | null>;
}

/** What a socket opened with a read token may send: follow its task (subscribe, replay) and nothing else. */
const READER_COMMANDS: ReadonlySet<CommandName> = new Set(["subscribe", "unsubscribe", "report_gap", "ping"]);

/** Commands waiting per socket beyond which new ones are refused at once (no unbounded queue). */
const MAX_QUEUED_COMMANDS = 100;

/**
 * Routes every event a client sends, one at a time per socket, in the order they arrived: rate
 * limits first, then known commands are validated (zod) and run. Every failure answers
 * `{ ok: false, error }` in the ack and, when the client gave no ack, as an `error` event. Unknown
 * events — including output names such as `agent_started` — get `unknown_event` and change nothing.
 * The connection always stays open.
 */
export function attachCommands(ctx: CommandContext, hooks: DispatchHooks = {}): void {
  let chain: Promise<void> = Promise.resolve();
  let queued = 0;
  ctx.socket.onAny((event: string, ...args: unknown[]) => {
    const ack = typeof args[args.length - 1] === "function" ? (args.pop() as AckFn) : undefined;
    if (queued >= MAX_QUEUED_COMMANDS) {
      hooks.onCommand?.(isCommandName(event) ? event : "unknown", "rate_limited");
      fail(
        ctx,
        event,
        ack,
        { ...errorBody("rate_limited", "Too many commands in flight on this connection"), retryAfterMs: 1_000 },
        { payload: args[0] },
      );
      return;
    }
    queued++;
    chain = chain
      .then(() => run(ctx, hooks, event, args[0], ack))
      // Never reached by a command's own failure (that is answered in `runCommand`); a throw from the
      // hooks must not break the chain for the commands behind it, nor end the process.
      .catch((err: unknown) => {
        hooks.onCommand?.(isCommandName(event) ? event : "unknown", "internal_error");
        fail(ctx, event, ack, errorBody("internal_error"), { payload: args[0], err });
      })
      .finally(() => {
        queued--;
      });
  });
}

async function run(ctx: CommandContext, hooks: DispatchHooks, event: string, payload: unknown, ack: AckFn | undefined) {
  const command = isCommandName(event) ? event : undefined;
  const refused = await hooks.admit?.(event);
  if (refused) {
    hooks.onCommand?.(command ?? "unknown", refused.code);
    fail(ctx, event, ack, refused, { payload });
    return;
  }
  if (!command) {
    hooks.onCommand?.("unknown", "unknown_event");
    fail(
      ctx,
      event,
      ack,
      errorBody("unknown_event", `Unknown event "${String(event).slice(0, 64)}"; see docs/protocol.md for the commands`),
      { payload },
    );
    return;
  }
  await runCommand(ctx, hooks, command, payload, ack);
}

async function runCommand(ctx: CommandContext, hooks: DispatchHooks, command: CommandName, payload: unknown, ack: AckFn | undefined) {
  const parsed = commandSchemas[command].safeParse(payload);
  if (!parsed.success) {
    const error = payloadErrorOf(parsed.error); // the HTTP API's answer too: one code per mistake, both doors
    hooks.onCommand?.(command, error.code);
    fail(ctx, command, ack, error, { payload });
    return;
  }
  const outOfScope = ctx.readScope && readerRefusal(command, parsed.data, ctx.readScope.taskId);
  if (outOfScope) {
    hooks.onCommand?.(command, "forbidden");
    fail(ctx, command, ack, errorBody("forbidden", outOfScope), { payload });
    return;
  }
  try {
    // biome-ignore lint/suspicious/noExplicitAny: the handler table is indexed by the validated command name
    const result = await handlers[command](ctx, parsed.data as any);
    hooks.onCommand?.(command, "ok");
    ack?.({ ok: true, ...result.body });
  } catch (err) {
    const expected = err instanceof CommandError;
    const code = expected ? err.code : (hooks.classifyError?.(err) ?? "internal_error");
    hooks.onCommand?.(command, code);
    fail(ctx, command, ack, expected ? errorBody(code, err.message) : errorBody(code), { payload, ...(expected ? {} : { err }) });
  }
}

/**
 * Answers a failed command and logs it: exactly one `command failed` line per failure, at error level
 * with the error when it was unexpected, else at info; with the payload's `taskId` when it has one.
 */
function fail(
  ctx: CommandContext,
  event: string,
  ack: AckFn | undefined,
  error: ErrorBody,
  why: { payload?: unknown; err?: unknown } = {},
): void {
  const taskId = taskIdOf(why.payload);
  const line = { event: String(event).slice(0, 64), code: error.code, reason: error.message, ...(taskId ? { taskId } : {}) };
  if (why.err === undefined) ctx.logger.info(line, "command failed");
  else ctx.logger.error({ ...line, err: why.err }, "command failed");
  if (ack) ack({ ok: false, error });
  if (!ack || error.code === "unknown_event") ctx.socket.emit("error", { ...error, event: String(event).slice(0, 64) });
}

/** Why a read token's socket may not send this command, or undefined when it may. */
function readerRefusal(command: CommandName, payload: unknown, taskId: string): string | undefined {
  if (!READER_COMMANDS.has(command)) return `A read token can only subscribe to its task; ${command} needs the owner's token`;
  const target = taskIdOf(payload);
  return target !== undefined && target !== taskId ? "This read token opens another task" : undefined;
}

/** The payload's `taskId`, when it is a string of sane length (payloads are untrusted: never log a huge one). */
function taskIdOf(payload: unknown): string | undefined {
  const taskId = typeof payload === "object" && payload !== null ? (payload as { taskId?: unknown }).taskId : undefined;
  return typeof taskId === "string" && taskId.length > 0 && taskId.length <= 128 ? taskId : undefined;
}
