import type { CommandName, CommandPayload, CommandResults } from "@agentcast/protocol";
import { CommandError } from "./command-error.js";
import type { CommandContext } from "./context.js";

/** A handler returns its ack body (sent as `{ ok: true, ...body }`). */
export type HandlerResult<C extends CommandName> = { body: CommandResults[C] };
type Handler<C extends CommandName> = (ctx: CommandContext, payload: CommandPayload<C>) => Promise<HandlerResult<C>>;

async function ownTask(ctx: CommandContext, taskId: string) {
  const owned = await ctx.tasks.getOwnedTask(ctx.userId, taskId);
  if (!owned.ok) throw new CommandError(owned.code);
  return owned.task;
}

export const handlers: { [C in CommandName]: Handler<C> } = {
  async user_message(ctx, { text, taskId, messageId }) {
    await using lease = ctx.subscriptions.lease(ctx.viewer);
    const started = await ctx.runs.start({
      userId: ctx.userId,
      text,
      taskId,
      messageId,
      // Before anything changes: refused when the socket may not follow another task.
      mayFollow: () => lease.secure(taskId),
      // In the room (confirmed) before the job exists, so the run's first event reaches this pod.
      follow: (id, fromSeq) => lease.open(id, fromSeq),
    });
    lease.commit();
    return { body: started };
  },

  async subscribe(ctx, { taskId, sinceSeq, sinceId }) {
    await ownTask(ctx, taskId);
    await using lease = ctx.subscriptions.lease(ctx.viewer);
    lease.secure(taskId);
    const start = await lease.open(taskId, sinceSeq ?? 0, sinceId);
    // In the room now, so a revocation from here on reaches this gateway: one made before is seen here.
    if (ctx.readTokenLive && !(await ctx.readTokenLive()))
      throw new CommandError("token_invalid", "The read token was revoked or has expired");
    lease.commit(); // history is replayed after the ack
    return { body: { taskId, ...start } };
  },

  async unsubscribe(ctx, { taskId }) {
    ctx.subscriptions.unsubscribe(ctx.viewer, taskId);
    return { body: { taskId } };
  },

  async cancel(ctx, { taskId }) {
    const res = await ctx.tasks.requestCancel(ctx.userId, taskId);
    if (!res.ok) throw new CommandError(res.code);
    return { body: { taskId, runId: res.runId } };
  },

  async user_response(ctx, { taskId, questionId, response }) {
    const res = await ctx.tasks.answerQuestion(ctx.userId, taskId, questionId, response);
    if (!res.ok)
      throw new CommandError(res.code, res.code === "not_found" ? "No such task or no open question with this questionId" : undefined);
    ctx.watchAnswer(taskId, questionId);
    return { body: { taskId, questionId } };
  },

  async auth_refresh(ctx, { token }) {
    const verified = await ctx.verifyToken(token);
    if (!verified.ok) throw new CommandError(verified.code);
    if (verified.userId !== ctx.userId) throw new CommandError("forbidden", "auth_refresh must keep the same sub");
    ctx.setExpiry(verified.expiresAt);
    return { body: { expiresAt: verified.expiresAt ?? null } };
  },

  async report_gap(ctx, { taskId, expectedSeq, gotSeq }) {
    await ownTask(ctx, taskId);
    ctx.silentFailure("sequence_gap");
    ctx.logger.warn({ taskId, expectedSeq, gotSeq, source: "client" }, "client reported a sequence gap");
    return { body: { taskId } };
  },

  async ping(ctx) {
    const ts = Date.now();
    ctx.socket.emit("pong", { ts });
    return { body: { ts } };
  },
};
