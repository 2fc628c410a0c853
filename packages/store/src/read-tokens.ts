import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import { ID_PATTERN } from "@agentcast/protocol";
import type { Keys } from "./keys.js";
import { type ScriptedRedis, withLuaScripts } from "./lua-scripts.js";
import type { RedisClient } from "./redis-connection.js";

/** What a read token opens: one task's streams, as its owner, until `expiresAtMs`. */
export interface ReadGrant {
  taskId: string;
  tokenId: string;
  expiresAtMs: number;
}

export interface MintedReadToken {
  id: string;
  token: string;
  /** Epoch milliseconds. */
  expiresAt: number;
}

export type MintRefusal = "not_found" | "forbidden" | "limit_exceeded";

/** Read tokens start with this; a JWT never does (its first segment is base64url JSON, `eyJ…`). */
export const READ_TOKEN_PREFIX = "rt.";
const TOKEN_ID = /^[A-Za-z0-9_-]{16}$/;
const SECRET = /^[A-Za-z0-9_-]{43}$/;

/**
 * Read tokens: `rt.<taskId>.<tokenId>.<secret>`, minted by a task's owner, opening that one task's
 * streams (subscribe and replay, nothing else) until they expire or are revoked. Only a hash of the
 * secret is stored, beside the task's other keys (same slot), so a token dies with its task.
 */
export class ReadTokens {
  private readonly redis: ScriptedRedis;

  constructor(
    redis: RedisClient,
    private readonly opts: { keys: Keys; maxPerTask: number },
  ) {
    this.redis = withLuaScripts(redis);
  }

  async mint(
    userId: string,
    taskId: string,
    ttlSeconds: number,
  ): Promise<{ ok: true; minted: MintedReadToken } | { ok: false; code: MintRefusal }> {
    const id = randomBytes(12).toString("base64url");
    const secret = randomBytes(32).toString("base64url");
    const now = Date.now();
    const expiresAt = now + ttlSeconds * 1000;
    const { keys, maxPerTask } = this.opts;
    const [answer] = await this.redis.acMintReadToken(
      keys.task(taskId),
      keys.readTokens(taskId),
      userId,
      id,
      sha256(secret),
      now,
      expiresAt,
      maxPerTask,
    );
    if (answer !== "ok") return { ok: false, code: answer as MintRefusal };
    return { ok: true, minted: { id, token: `${READ_TOKEN_PREFIX}${taskId}.${id}.${secret}`, expiresAt } };
  }

  /** The grant of a live token, or undefined (malformed, unknown, revoked, expired). */
  async verify(token: string): Promise<ReadGrant | undefined> {
    const parts = parseReadToken(token);
    if (!parts) return undefined;
    const stored = storedToken(await this.redis.hget(this.opts.keys.readTokens(parts.taskId), parts.tokenId));
    if (!stored) return undefined;
    const { expiresAtMs, secretSha256 } = stored;
    if (!timingSafeEqual(secretSha256, Buffer.from(sha256(parts.secret), "hex")) || expiresAtMs <= Date.now()) return undefined;
    return { taskId: parts.taskId, tokenId: parts.tokenId, expiresAtMs };
  }

  /** The grant's token is still there and unexpired (not revoked since it was verified). */
  async isLive(grant: ReadGrant): Promise<boolean> {
    const stored = storedToken(await this.redis.hget(this.opts.keys.readTokens(grant.taskId), grant.tokenId));
    return stored !== undefined && stored.expiresAtMs > Date.now();
  }

  /** Revokes a token of the task (the caller checked the owner): false when there was none. */
  async revoke(taskId: string, tokenId: string): Promise<boolean> {
    return (await this.redis.hdel(this.opts.keys.readTokens(taskId), tokenId)) > 0;
  }
}

export function isReadToken(token: string): boolean {
  return token.startsWith(READ_TOKEN_PREFIX);
}

function parseReadToken(token: string): { taskId: string; tokenId: string; secret: string } | undefined {
  if (!isReadToken(token)) return undefined;
  const [taskId, tokenId, secret, ...rest] = token.slice(READ_TOKEN_PREFIX.length).split(".");
  if (rest.length > 0 || !taskId || !tokenId || !secret) return undefined;
  if (!ID_PATTERN.test(taskId) || !TOKEN_ID.test(tokenId) || !SECRET.test(secret)) return undefined;
  return { taskId, tokenId, secret };
}

/** A token as mint-read-token-2.lua stores it: `<expiresAtMs>:<sha256 of the secret, hex>`. */
function storedToken(value: string | null): { expiresAtMs: number; secretSha256: Buffer } | undefined {
  const match = value ? /^(\d+):([0-9a-f]{64})$/.exec(value) : null;
  return match ? { expiresAtMs: Number(match[1]), secretSha256: Buffer.from(match[2] as string, "hex") } : undefined;
}

function sha256(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}
