/**
 * Authentication by name and password, the part the HTTP route and etcd's Authenticate share; each
 * reads the request, throttles its source and words the answer in its own terms.
 */
import type { ServerContext } from "./context.js";
import { verifyPassword } from "./passwords.js";
import { signToken } from "./tokens.js";

export type Authentication =
  | { readonly type: "token"; readonly token: string; readonly expiresAt: number }
  | { readonly type: "authNotEnabled" }
  | { readonly type: "failed" };

/**
 * A token for `name` when `password` is its password. After a read barrier, so that a user created
 * (or a password set) anywhere before can authenticate at any member; its failure is thrown as the
 * node raised it. A wrong pair counts against `source` in the limiter.
 */
export async function authenticateUser(
  ctx: ServerContext,
  source: string,
  name: string,
  password: string,
): Promise<Authentication> {
  await ctx.node.raft.readBarrier("linearizable");
  const auth = ctx.kv.auth;
  if (!auth.enabled()) return { type: "authNotEnabled" };
  const user = auth.user(name);
  const matched = await verifyPassword(password, user?.password ?? null);
  // The state may have moved during the hash: the password checked must still be the user's.
  const now = auth.user(name);
  if (!matched || !auth.enabled() || now === undefined || now.passwordRevision !== user?.passwordRevision) {
    ctx.auth.limiter.failed(source);
    return { type: "failed" };
  }
  const expiresAt = ctx.auth.now() + ctx.auth.tokenTtlMs;
  return {
    type: "token",
    token: signToken(auth.tokenKey()!, { user: name, rev: auth.revision(), exp: expiresAt }),
    expiresAt,
  };
}
