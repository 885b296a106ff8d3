/**
 * etcd's permissions (a key and a range_end) on raftkv's (one key or a prefix; docs/auth.md): an
 * empty range_end is one key, a range_end that is the key's prefix end (etcdctl's `--prefix`) is that
 * prefix, and key "\0" (or empty) with range_end "\0" is every key, the prefix "" (etcdctl's form of
 * `--prefix ''`). Any other range has no raftkv form and is refused.
 */
import { GrpcError, Status } from "../grpc/status.js";
import { binaryBytes } from "../kv/binary.js";
import { rangeSpan, type Access, type Permission } from "../kv/index.js";
import { etcdError } from "./errors.js";
import { PermissionType, type Permission as EtcdPermission } from "./messages/records.js";

const accessOfType: Readonly<Record<number, Access>> = {
  [PermissionType.Read]: "read",
  [PermissionType.Write]: "write",
  [PermissionType.Readwrite]: "readwrite",
};
const typeOfAccess: Readonly<Record<Access, number>> = {
  read: PermissionType.Read,
  write: PermissionType.Write,
  readwrite: PermissionType.Readwrite,
};

/** Where a permission applies, in raftkv's terms, from etcd's key and range_end. */
export function permissionPlace(key: Uint8Array, rangeEnd: Uint8Array): { key: Uint8Array; prefix: boolean } {
  if (isZeroByte(rangeEnd) && (key.length === 0 || isZeroByte(key))) return { key: new Uint8Array(0), prefix: true };
  if (rangeEnd.length === 0) {
    if (key.length === 0) throw etcdError("emptyKey");
    return { key, prefix: false };
  }
  if (Buffer.from(rangeEnd).equals(prefixRangeEnd(key))) return { key, prefix: true };
  throw new GrpcError(
    Status.INVALID_ARGUMENT,
    "raftkv grants permissions on one key or on a prefix only: range_end must be empty or the prefix's end (as etcdctl's --prefix sends it)",
  );
}

export function permissionOf(perm: EtcdPermission | undefined): Permission {
  if (perm === undefined) throw new GrpcError(Status.INVALID_ARGUMENT, "the permission is missing");
  const access = accessOfType[perm.permType];
  if (access === undefined) throw new GrpcError(Status.INVALID_ARGUMENT, `unknown permission type ${perm.permType}`);
  return { access, ...permissionPlace(perm.key, perm.rangeEnd) };
}

export function etcdPermissionOf(permission: Permission): EtcdPermission {
  if (permission.prefix && permission.key.length === 0)
    return { permType: typeOfAccess[permission.access], key: Uint8Array.of(0), rangeEnd: Uint8Array.of(0) };
  return {
    permType: typeOfAccess[permission.access],
    key: permission.key,
    rangeEnd: permission.prefix ? prefixRangeEnd(permission.key) : new Uint8Array(0),
  };
}

/** etcd's GetPrefixRangeEnd: the least key above every key starting with `prefix`, "\0" (no end) if none is. */
function prefixRangeEnd(prefix: Uint8Array): Uint8Array {
  const end = rangeSpan({ prefix }).to;
  return end === undefined ? Uint8Array.of(0) : binaryBytes(end);
}

function isZeroByte(bytes: Uint8Array): boolean {
  return bytes.length === 1 && bytes[0] === 0;
}
