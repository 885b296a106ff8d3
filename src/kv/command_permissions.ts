import type { AuthState } from "./auth_state.js";
import { isAuthCommand, noUser, type KvCommand } from "./commands.js";
import { etcdTxnPermitted } from "./etcd_permissions.js";
import { keySpan } from "./key_span.js";
import type { LeaseTable } from "./lease_table.js";

/**
 * Whether `command`'s principal may run it against `auth` as it is now (docs/auth.md): always when
 * auth is off or the command has no principal (a member made it); never for `noUser` or a user that
 * does not exist; root may do everything. A lease revoke needs write on every key `leases` attaches to it.
 */
export function permitted(auth: AuthState, command: KvCommand, leases: Pick<LeaseTable, "keys">): boolean {
  if (command.type === "leaseCheckpoint" || command.principal === undefined || !auth.enabled()) return true;
  const user = command.principal;
  if (user === noUser || auth.user(user) === undefined) return false;
  if (auth.isRoot(user)) return true;
  if (isAuthCommand(command)) return false;
  const may = (access: "read" | "write", key: Uint8Array | string): boolean => auth.allowed(user, access, keySpan(key));
  switch (command.type) {
    case "put":
    case "delete":
      return may("write", command.key);
    case "txn":
      return (
        command.compare.every((c) => may("read", c.key)) &&
        [...command.success, ...command.failure].every((op) => may(op.type === "get" ? "read" : "write", op.key))
      );
    case "leaseGrant":
      return true;
    case "leaseRevoke":
      return leases.keys(command.id).every((key) => may("write", key));
    case "compact":
      return false;
    case "etcdTxn":
      return etcdTxnPermitted(
        (access, span) => auth.allowed(user, access, span),
        command,
        (id) => leases.keys(id),
      );
  }
}
