import { createHmac, timingSafeEqual } from "node:crypto";

/** What a token says: who, the auth revision it was issued at, and when it expires (ms since the epoch). */
interface TokenClaims {
  readonly user: string;
  readonly rev: number;
  readonly exp: number;
}

/** A token larger than this is not one this code made (a 128-character name fits many times over). */
const tokenCharsMax = 1024;

/** `base64url(payload).base64url(HMAC-SHA256(key, payload))`, the payload being the claims as JSON. */
export function signToken(key: Uint8Array, claims: TokenClaims): string {
  const payload = Buffer.from(JSON.stringify({ user: claims.user, rev: claims.rev, exp: claims.exp }), "utf8");
  return `${payload.toString("base64url")}.${mac(key, payload).toString("base64url")}`;
}

/**
 * The token's claims if `key` signed it and it has not expired at `now`; else why not. Says nothing
 * about whether the user still exists: the caller checks that against the auth state.
 */
export function verifyToken(
  key: Uint8Array,
  token: string,
  now: number,
):
  { readonly ok: true; readonly claims: TokenClaims } | { readonly ok: false; readonly reason: "invalid" | "expired" } {
  const invalid = { ok: false, reason: "invalid" } as const;
  if (token.length > tokenCharsMax) return invalid;
  const parts = token.split(".");
  if (parts.length !== 2) return invalid;
  const payload = Buffer.from(parts[0]!, "base64url");
  const signature = Buffer.from(parts[1]!, "base64url");
  const expected = mac(key, payload);
  if (signature.length !== expected.length || !timingSafeEqual(signature, expected)) return invalid;
  const claims = parseClaims(payload);
  if (claims === undefined) return invalid;
  return claims.exp <= now ? { ok: false, reason: "expired" } : { ok: true, claims };
}

function mac(key: Uint8Array, payload: Uint8Array): Buffer {
  return createHmac("sha256", key).update(payload).digest();
}

function parseClaims(payload: Buffer): TokenClaims | undefined {
  let json: unknown;
  try {
    json = JSON.parse(payload.toString("utf8"));
  } catch {
    return undefined;
  }
  if (typeof json !== "object" || json === null) return undefined;
  const { user, rev, exp } = json as Record<string, unknown>;
  if (typeof user !== "string" || !Number.isSafeInteger(rev) || !Number.isSafeInteger(exp)) return undefined;
  return { user, rev: rev as number, exp: exp as number };
}
