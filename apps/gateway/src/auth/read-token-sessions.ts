import { taskRoom } from "@agentcast/protocol";
import { broadcastFrame, type RedisClient } from "@agentcast/store";

/** The adapter message a gateway sends on a task room's shard channel when one of the task's read tokens is revoked. */
export const READ_TOKEN_REVOKED = "agentcast:read_token_revoked";

/**
 * The connections and streams this gateway holds open with a read token, by token id, so a revocation
 * ends them at once. Every one of them is in its task's room, so a revocation published on the room's
 * shard channel (`announceRevocation`) reaches exactly the gateways that hold one.
 */
export class ReadTokenSessions {
  private readonly byToken = new Map<string, Set<() => void>>();

  /** Holds a session of `tokenId`; `end` is called on revocation. Returns its release. */
  hold(tokenId: string, end: () => void): () => void {
    const set = this.byToken.get(tokenId) ?? new Set();
    this.byToken.set(tokenId, set);
    set.add(end);
    return () => {
      set.delete(end);
      if (set.size === 0 && this.byToken.get(tokenId) === set) this.byToken.delete(tokenId);
    };
  }

  /** The token was revoked: ends every session of it on this gateway; how many there were. */
  revoked(tokenId: string): number {
    const set = this.byToken.get(tokenId);
    if (!set) return 0;
    this.byToken.delete(tokenId);
    for (const end of set) end();
    return set.size;
  }
}

/** Tells every gateway holding the task's room that `tokenId` is revoked (the adapter hook hands it to `ReadTokenSessions`). */
export async function announceRevocation(redis: RedisClient, taskId: string, tokenId: string): Promise<void> {
  const frame = broadcastFrame(taskRoom(taskId), READ_TOKEN_REVOKED);
  await redis.spublish(frame.channel, `${frame.prefix}${JSON.stringify({ tokenId })}${frame.suffix}`);
}
