import { SignJWT } from "jose";
import { DEV_JWT_SECRET } from "./stack/app-processes.js";

/** Signs an HS256 token for `sub` (default: the dev secret, 1 hour). */
export async function signDevToken(
  sub: string,
  opts: { secret?: string; expiresInSeconds?: number; claims?: Record<string, unknown> } = {},
): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ ...opts.claims })
    .setProtectedHeader({ alg: "HS256", typ: "JWT" })
    .setSubject(sub)
    .setIssuedAt(now)
    .setExpirationTime(now + (opts.expiresInSeconds ?? 3600))
    .sign(new TextEncoder().encode(opts.secret ?? DEV_JWT_SECRET));
}
