/** Who a token speaks for, the check the HTTP routes and etcd's calls share; each words and logs a refusal. */
import type { ServerContext } from "./context.js";
import { verifyToken } from "./tokens.js";

type TokenUser =
  | { readonly ok: true; readonly user: string }
  | {
      readonly ok: false;
      /** Forged, expired, for a user since deleted, or from before the user's current password (or re-creation). */
      readonly reason: "invalid" | "expired" | "noSuchUser" | "stalePassword";
      readonly user?: string;
    };

/** The user `token` names, if its signature holds, it has not expired, and it is still that user's. */
export function tokenUser(ctx: ServerContext, token: string): TokenUser {
  const auth = ctx.kv.auth;
  const verified = verifyToken(auth.tokenKey()!, token, ctx.auth.now());
  if (!verified.ok) return verified;
  const { user, rev } = verified.claims;
  const record = auth.user(user);
  if (record === undefined) return { ok: false, reason: "noSuchUser", user };
  if (rev < record.passwordRevision) return { ok: false, reason: "stalePassword", user };
  return { ok: true, user };
}
