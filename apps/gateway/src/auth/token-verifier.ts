import { createPublicKey, type KeyObject, type webcrypto } from "node:crypto";
import { createRemoteJWKSet, errors, type JWTVerifyGetKey, jwtVerify } from "jose";

export type TokenFailure = "token_missing" | "token_invalid" | "token_expired";
export type VerifiedToken =
  | { ok: true; userId: string; expiresAt: number | undefined; role: string | undefined }
  | { ok: false; code: TokenFailure; reason: string };

export interface TokenVerifierOptions {
  secret?: string | undefined;
  publicKeyPem?: string | undefined;
  /** A JWKS endpoint: RS256/ES256 keys picked by `kid`, cached for `jwksCacheSeconds`. */
  jwksUrl?: string | undefined;
  jwksCacheSeconds?: number;
  issuer?: string | undefined;
  audience?: string | undefined;
  clockSkewSeconds?: number;
}

/**
 * Verifies JWTs. Algorithms are pinned to the configured keys: HS256 with JWT_SECRET, RS256 or
 * ES256 (by key type) with JWT_PUBLIC_KEY, RS256/ES256 by `kid` from JWT_JWKS_URL; `alg: none` and
 * HS/RS confusion are refused.
 */
export function createTokenVerifier(opts: TokenVerifierOptions): (token: string | undefined) => Promise<VerifiedToken> {
  const keys = new Map<string, KeyObject | Promise<webcrypto.CryptoKey>>();
  if (opts.secret) {
    // Imported once: handed raw bytes, jose imports a CryptoKey on every verify (measured: 96–114 µs
    // of CPU per HS256 token → 42–46 µs with the key imported once; `docs/benchmarks.md`).
    const hmac = crypto.subtle.importKey("raw", new TextEncoder().encode(opts.secret), { name: "HMAC", hash: "SHA-256" }, false, [
      "verify",
    ]);
    hmac.catch(() => {}); // a failed import fails each verify (token_invalid), never the process
    keys.set("HS256", hmac);
  }
  if (opts.publicKeyPem) {
    const key = createPublicKey(opts.publicKeyPem);
    const alg = key.asymmetricKeyType === "rsa" ? "RS256" : key.asymmetricKeyType === "ec" ? "ES256" : undefined;
    if (!alg) throw new Error(`JWT_PUBLIC_KEY: unsupported key type ${key.asymmetricKeyType}; use RSA or EC P-256`);
    keys.set(alg, key);
  }
  // jose caches the set, refetches on an unknown kid at most once per cooldown, and times fetches out.
  const jwks = opts.jwksUrl
    ? createRemoteJWKSet(new URL(opts.jwksUrl), {
        cacheMaxAge: (opts.jwksCacheSeconds ?? 600) * 1000,
        cooldownDuration: Math.min(30, opts.jwksCacheSeconds ?? 600) * 1000,
        timeoutDuration: 5_000,
      })
    : undefined;
  const algorithms = [...new Set([...keys.keys(), ...(jwks ? ["RS256", "ES256"] : [])])];
  const getKey: JWTVerifyGetKey = (header, token) => {
    const key = keys.get(header.alg);
    if (key) return key;
    // Only asymmetric algorithms reach the JWKS: an HS256 token is never checked against a public key.
    if (jwks && (header.alg === "RS256" || header.alg === "ES256")) return jwks(header, token);
    throw new errors.JOSEAlgNotAllowed(`alg ${header.alg} not allowed`);
  };
  const verifyOpts = {
    algorithms,
    ...(opts.issuer ? { issuer: opts.issuer } : {}),
    ...(opts.audience ? { audience: opts.audience } : {}),
    clockTolerance: opts.clockSkewSeconds ?? 0,
  };

  return async (token) => {
    if (!token) return { ok: false, code: "token_missing", reason: "no token" };
    try {
      const { payload } = await jwtVerify(token, getKey, verifyOpts);
      const sub = payload.sub;
      const problem = userIdProblem(sub);
      if (problem !== undefined || typeof sub !== "string") return { ok: false, code: "token_invalid", reason: `sub claim ${problem}` };
      return { ok: true, userId: sub, expiresAt: payload.exp, role: typeof payload.role === "string" ? payload.role : undefined };
    } catch (err) {
      if (err instanceof errors.JWTExpired) return { ok: false, code: "token_expired", reason: err.message };
      return { ok: false, code: "token_invalid", reason: err instanceof Error ? err.message : String(err) };
    }
  };
}

/** Longest user id (the token's `sub`), in Unicode characters (code points). */
export const MAX_USER_ID_CHARS = 256;
/** A UTF-16 surrogate that is not half of a pair: a string holding one is not well-formed Unicode. */
const LONE_SURROGATE = /\p{Cs}/u;

/**
 * Why `sub` cannot be a user id, or undefined when it can: a string of 1–256 Unicode characters that is
 * well-formed. A lone surrogate (`"\uD800"`) becomes U+FFFD on its way to Redis (UTF-8), so two users
 * that JavaScript tells apart would share every key and every byte-wise comparison in Lua; refused, a
 * user id has one representation everywhere. Counted in code points, as the docs say: an emoji is one.
 */
export function userIdProblem(sub: unknown): string | undefined {
  if (typeof sub !== "string" || sub.length === 0) return "missing or not a string";
  if (sub.length > 2 * MAX_USER_ID_CHARS) return `longer than ${MAX_USER_ID_CHARS} characters`;
  if (LONE_SURROGATE.test(sub)) return "is not well-formed Unicode (lone surrogate)";
  let chars = 0;
  for (const _ of sub) chars++;
  return chars > MAX_USER_ID_CHARS ? `longer than ${MAX_USER_ID_CHARS} characters` : undefined;
}

/** The bearer token of an `Authorization` header value, if any. */
export function bearerToken(header: string | string[] | undefined): string | undefined {
  const value = Array.isArray(header) ? header[0] : header;
  const match = value?.match(/^Bearer\s+(\S+)\s*$/i);
  return match?.[1];
}
