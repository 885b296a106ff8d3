/**
 * The caller's credentials on the command line (docs/api.md, "Command line"): `--user NAME
 * --password P` or `--token T` on every client command. `user add` and `user passwd` also take the
 * new password as `--password`; which `--password` is whose is decided on the raw arguments, before
 * commander sees them, because commander keeps only the last value of a repeated flag.
 */
import type { AuthOptions } from "../client/index.js";

interface CredentialFlags {
  readonly user?: string;
  readonly password?: string;
  readonly token?: string;
}

/** The client's `auth` option for the flags, or the problem with them (a usage error). */
export function credentialsOf(flags: CredentialFlags): { auth?: AuthOptions } | { problem: string } {
  const { user, password, token } = flags;
  if (token !== undefined) {
    if (user !== undefined || password !== undefined)
      return { problem: "give either --user and --password or --token, not both" };
    return token === "" ? { problem: "--token is empty" } : { auth: { token } };
  }
  if (user === undefined) {
    return password === undefined ? {} : { problem: "--password names the caller's password: give --user too" };
  }
  if (user === "") return { problem: "--user is empty" };
  if (password === undefined) return { problem: `--user ${user} needs --password (or RAFTKV_PASSWORD)` };
  return { auth: { user, password } };
}
