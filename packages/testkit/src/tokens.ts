import { createHmac } from "node:crypto";
import { DEV_JWT_SECRET } from "./stack/app-processes.js";

const b64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");

/**
 * Signs an HS256 token for `sub` (default: the dev secret, 1 hour). Plain node:crypto, so it works
 * in any test environment (under jsdom, libraries resolve their browser builds).
 */
export async function signDevToken(
  sub: string,
  opts: { secret?: string; expiresInSeconds?: number; claims?: Record<string, unknown> } = {},
): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  const head = `${b64url({ alg: "HS256", typ: "JWT" })}.${b64url({ ...opts.claims, sub, iat: now, exp: now + (opts.expiresInSeconds ?? 3600) })}`;
  const signature = createHmac("sha256", opts.secret ?? DEV_JWT_SECRET)
    .update(head)
    .digest("base64url");
  return `${head}.${signature}`;
}
