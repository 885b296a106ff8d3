import { passwordSize, writeName, writePassword } from "./auth_codec.js";
import { asciiString, binaryString, isVisibleAscii, type Reader, type Writer } from "./binary.js";
import type { Access, AuthCommand, AuthRefusal, PasswordHash, Permission } from "./auth_commands.js";
import { rootName } from "./auth_commands.js";
import { keyBounds } from "./key_range.js";
import type { AuthResult } from "./results.js";
import type { KeySpan } from "./key_span.js";
import { covered, keySpan } from "./key_span.js";
import {
  authNameBytesMax,
  authPermissionsPerRoleMax,
  authRolesMax,
  authRolesPerUserMax,
  authUsersMax,
  keyBytesMax,
  tokenKeyBytes,
} from "./limits.js";

/** A user as the auth state holds it; `roles` in ascending order. */
interface AuthUser {
  readonly name: string;
  readonly password: PasswordHash | null;
  /** The auth revision at which the user was created or its password last set: older tokens are void. */
  readonly passwordRevision: number;
  readonly roles: readonly string[];
}

/** The auth state as the server reads it. */
export type AuthView = Pick<
  AuthState,
  "enabled" | "revision" | "tokenKey" | "user" | "userNames" | "roleNames" | "role" | "isRoot" | "allowed"
>;

interface UserState {
  password: PasswordHash | null;
  passwordRevision: number;
  roles: string[];
}

/**
 * The replicated users, roles and permissions (docs/auth.md). Deterministic like the rest of the
 * store: a command's hash and key were made by its proposer. Invariants: `revision` grows by one with
 * each change that succeeded; a user's roles exist (deleting a role takes it from every user); while
 * enabled, user root exists with role root, and `tokenKey` is set.
 */
export class AuthState {
  #enabled = false;
  #revision = 0;
  #tokenKey: Uint8Array | undefined;
  #users = new Map<string, UserState>();
  #roles = new Map<string, Permission[]>();

  enabled(): boolean {
    return this.#enabled;
  }

  /** The auth revision: how many auth changes succeeded (0 before any). */
  revision(): number {
    return this.#revision;
  }

  /** The key that signs tokens while auth is enabled. */
  tokenKey(): Uint8Array | undefined {
    return this.#tokenKey;
  }

  user(name: string): AuthUser | undefined {
    const user = this.#users.get(name);
    return user === undefined ? undefined : { name, ...user, roles: [...user.roles] };
  }

  userNames(): string[] {
    return [...this.#users.keys()].sort();
  }

  roleNames(): string[] {
    return [...this.#roles.keys()].sort();
  }

  /** The role's permissions, or undefined if there is no such role. */
  role(name: string): readonly Permission[] | undefined {
    return this.#roles.get(name)?.slice();
  }

  /** Whether user `name` exists and holds the root role, which may do everything. */
  isRoot(name: string): boolean {
    return this.#users.get(name)?.roles.includes(rootName) === true;
  }

  /** Whether user `name` (who exists) may `access` every key of `span`. */
  allowed(name: string, access: "read" | "write", span: KeySpan): boolean {
    const user = this.#users.get(name);
    if (user === undefined) return false;
    if (user.roles.includes(rootName)) return true;
    const spans: KeySpan[] = [];
    for (const role of user.roles) {
      for (const p of this.#roles.get(role) ?? []) {
        if (p.access !== "readwrite" && p.access !== access) continue;
        spans.push(p.prefix ? keyBounds({ prefix: p.key }) : keySpan(p.key));
      }
    }
    return covered(spans, span);
  }

  /** Applies `command` in a store at key-value revision `revision` (which auth changes leave as it is). */
  apply(command: AuthCommand, revision: number): AuthResult {
    const refusal = this.#change(command);
    if (refusal !== undefined) return { type: "authRefused", reason: refusal, revision };
    this.#revision++;
    if (command.type === "userAdd" || command.type === "userPassword")
      this.#users.get(command.name)!.passwordRevision = this.#revision;
    return { type: "authChanged", authRevision: this.#revision, revision };
  }

  /** Makes the change, or says why not (and changes nothing). */
  #change(command: AuthCommand): AuthRefusal | undefined {
    switch (command.type) {
      case "userAdd":
        if (this.#users.has(command.name)) return "userExists";
        if (this.#users.size >= authUsersMax) return "tooMany";
        this.#users.set(command.name, { password: command.password, passwordRevision: 0, roles: [] });
        return undefined;
      case "userDelete":
        if (!this.#users.has(command.name)) return "userNotFound";
        if (this.#enabled && command.name === rootName) return "rootRequired";
        this.#users.delete(command.name);
        return undefined;
      case "userPassword": {
        const user = this.#users.get(command.name);
        if (user === undefined) return "userNotFound";
        user.password = command.password;
        return undefined;
      }
      case "userGrantRole":
        return this.#grantRole(command.name, command.role);
      case "userRevokeRole":
        return this.#revokeRole(command.name, command.role);
      case "roleAdd":
        if (this.#roles.has(command.name)) return "roleExists";
        if (this.#roles.size >= authRolesMax) return "tooMany";
        this.#roles.set(command.name, []);
        return undefined;
      case "roleDelete":
        if (!this.#roles.has(command.name)) return "roleNotFound";
        if (this.#enabled && command.name === rootName) return "rootRequired";
        this.#roles.delete(command.name);
        for (const user of this.#users.values()) user.roles = user.roles.filter((r) => r !== command.name);
        return undefined;
      case "roleGrantPermission":
        return this.#grantPermission(command.name, command.permission);
      case "roleRevokePermission": {
        const permissions = this.#roles.get(command.name);
        if (permissions === undefined) return "roleNotFound";
        const at = permissions.findIndex((p) => samePlace(p, command));
        if (at < 0) return "permissionNotFound";
        permissions.splice(at, 1);
        return undefined;
      }
      case "authEnable":
        return this.#enable(command.tokenKey);
      case "authDisable":
        this.#enabled = false;
        this.#tokenKey = undefined;
        return undefined;
    }
  }

  #grantRole(name: string, role: string): AuthRefusal | undefined {
    const user = this.#users.get(name);
    if (user === undefined) return "userNotFound";
    if (!this.#roles.has(role)) return "roleNotFound";
    if (user.roles.includes(role)) return undefined;
    if (user.roles.length >= authRolesPerUserMax) return "tooMany";
    user.roles = [...user.roles, role].sort();
    return undefined;
  }

  #revokeRole(name: string, role: string): AuthRefusal | undefined {
    const user = this.#users.get(name);
    if (user === undefined) return "userNotFound";
    if (!user.roles.includes(role)) return "roleNotFound";
    if (this.#enabled && name === rootName && role === rootName) return "rootRequired";
    user.roles = user.roles.filter((r) => r !== role);
    return undefined;
  }

  /** A permission on the same key (or prefix) as one the role has replaces it, as in etcd. */
  #grantPermission(name: string, permission: Permission): AuthRefusal | undefined {
    const permissions = this.#roles.get(name);
    if (permissions === undefined) return "roleNotFound";
    const kept = { access: permission.access, key: permission.key.slice(), prefix: permission.prefix };
    const at = permissions.findIndex((p) => samePlace(p, permission));
    if (at >= 0) permissions[at] = kept;
    else if (permissions.length >= authPermissionsPerRoleMax) return "tooMany";
    else {
      permissions.push(kept);
      permissions.sort(comparePermissions);
    }
    return undefined;
  }

  /** Enabling again is no change (the key stays, so tokens stay valid); it counts as one anyway. */
  #enable(tokenKey: Uint8Array): AuthRefusal | undefined {
    if (this.#enabled) return undefined;
    const root = this.#users.get(rootName);
    if (root === undefined) return "noRootUser";
    if (!this.#roles.has(rootName)) this.#roles.set(rootName, []);
    if (!root.roles.includes(rootName)) root.roles = [...root.roles, rootName].sort();
    this.#enabled = true;
    this.#tokenKey = tokenKey.slice();
    return undefined;
  }

  /*
   * Snapshot section, little-endian:
   *   u8 enabled, u64 revision, [tokenKeyBytes key if enabled],
   *   u32 users, each (by name): name, password (auth_codec.ts), u64 passwordRevision, u16 roles, names
   *   u32 roles, each (by name): name, u16 permissions, each: u8 access, u8 prefix, u16 key length, key
   * where name = u8 length + visible ASCII.
   */

  encodedSize(): number {
    let size = 1 + 8 + (this.#enabled ? tokenKeyBytes : 0) + 4 + 4;
    for (const [name, user] of this.#users) {
      size += 1 + name.length + passwordSize(user.password) + 8 + 2;
      for (const role of user.roles) size += 1 + role.length;
    }
    for (const [name, permissions] of this.#roles) {
      size += 1 + name.length + 2;
      for (const p of permissions) size += 4 + p.key.length;
    }
    return size;
  }

  write(w: Writer): void {
    w.u8(this.#enabled ? 1 : 0);
    w.u64(this.#revision);
    if (this.#enabled) w.raw(this.#tokenKey!);
    w.u32(this.#users.size);
    for (const name of this.userNames()) {
      const user = this.#users.get(name)!;
      writeName(w, name);
      writePassword(w, user.password);
      w.u64(user.passwordRevision);
      w.u16(user.roles.length);
      for (const role of user.roles) writeName(w, role);
    }
    w.u32(this.#roles.size);
    for (const name of this.roleNames()) {
      const permissions = this.#roles.get(name)!;
      writeName(w, name);
      w.u16(permissions.length);
      for (const p of permissions) {
        w.u8(accessCodes.indexOf(p.access) + 1);
        w.u8(p.prefix ? 1 : 0);
        w.bytes16(p.key);
      }
    }
  }

  /** The state `write` wrote, or why the bytes are not one. Keeps no view into the input. */
  static read(r: Reader): AuthState | string {
    const state = new AuthState();
    const enabled = r.u8();
    const revision = r.u64();
    if ((enabled !== 0 && enabled !== 1) || revision === undefined) return "auth: bad header";
    state.#enabled = enabled === 1;
    state.#revision = revision;
    if (state.#enabled) {
      const key = r.raw(tokenKeyBytes);
      if (key === undefined) return "auth: truncated token key";
      state.#tokenKey = key.slice();
    }
    const users = readUsers(r, revision);
    if (typeof users === "string") return users;
    const roles = readRoles(r);
    if (typeof roles === "string") return roles;
    for (const [name, user] of users)
      if (user.roles.some((role) => !roles.has(role))) return `auth: user ${name} holds a role that does not exist`;
    if (state.#enabled && users.get(rootName)?.roles.includes(rootName) !== true)
      return "auth: enabled without user root holding role root";
    state.#users = users;
    state.#roles = roles;
    return state;
  }
}

const accessCodes: readonly Access[] = ["read", "write", "readwrite"];

function samePlace(a: { readonly key: Uint8Array; readonly prefix: boolean }, b: typeof a): boolean {
  return a.prefix === b.prefix && binaryString(a.key) === binaryString(b.key);
}

function comparePermissions(a: Permission, b: Permission): number {
  const ka = binaryString(a.key);
  const kb = binaryString(b.key);
  if (ka !== kb) return ka < kb ? -1 : 1;
  return Number(a.prefix) - Number(b.prefix);
}

function readName(r: Reader, previous: string | undefined): string | undefined {
  const length = r.u8();
  if (length === undefined || length === 0 || length > authNameBytesMax) return undefined;
  const bytes = r.raw(length);
  if (bytes === undefined || !isVisibleAscii(bytes)) return undefined;
  const name = asciiString(bytes);
  return previous !== undefined && previous >= name ? undefined : name;
}

function readPassword(r: Reader): PasswordHash | null | undefined {
  const present = r.u8();
  if (present === 0) return null;
  if (present !== 1) return undefined;
  const [logN, rr, p, saltLength] = [r.u8(), r.u8(), r.u8(), r.u8()];
  const salt = saltLength === undefined || saltLength === 0 ? undefined : r.raw(saltLength)?.slice();
  const hashLength = r.u8();
  const hash = hashLength === undefined || hashLength === 0 ? undefined : r.raw(hashLength)?.slice();
  if (!logN || !rr || !p || salt === undefined || hash === undefined) return undefined;
  return { logN, r: rr, p, salt, hash };
}

function readUsers(r: Reader, revision: number): Map<string, UserState> | string {
  const count = r.u32();
  if (count === undefined || count > authUsersMax) return "auth: bad user count";
  const users = new Map<string, UserState>();
  let previous: string | undefined;
  for (let i = 0; i < count; i++) {
    const name = readName(r, previous);
    if (name === undefined) return `auth: user ${i}: bad name or out of order`;
    previous = name;
    const password = readPassword(r);
    const passwordRevision = r.u64();
    const roleCount = r.u16();
    if (password === undefined || passwordRevision === undefined || passwordRevision > revision)
      return `auth: user ${name}: bad password record`;
    if (roleCount === undefined || roleCount > authRolesPerUserMax) return `auth: user ${name}: bad role count`;
    const roles: string[] = [];
    for (let k = 0; k < roleCount; k++) {
      const role = readName(r, roles[roles.length - 1]);
      if (role === undefined) return `auth: user ${name}: bad role name or out of order`;
      roles.push(role);
    }
    users.set(name, { password, passwordRevision, roles });
  }
  return users;
}

function readRoles(r: Reader): Map<string, Permission[]> | string {
  const count = r.u32();
  if (count === undefined || count > authRolesMax) return "auth: bad role count";
  const roles = new Map<string, Permission[]>();
  let previous: string | undefined;
  for (let i = 0; i < count; i++) {
    const name = readName(r, previous);
    if (name === undefined) return `auth: role ${i}: bad name or out of order`;
    previous = name;
    const permissionCount = r.u16();
    if (permissionCount === undefined || permissionCount > authPermissionsPerRoleMax)
      return `auth: role ${name}: bad permission count`;
    const permissions: Permission[] = [];
    for (let k = 0; k < permissionCount; k++) {
      const access = accessCodes[(r.u8() ?? 0) - 1];
      const prefix = r.u8();
      const key = r.bytes16();
      if (access === undefined || (prefix !== 0 && prefix !== 1) || key === undefined || key.length > keyBytesMax)
        return `auth: role ${name}: bad permission ${k}`;
      if (key.length === 0 && prefix === 0) return `auth: role ${name}: permission ${k} on the empty key`;
      permissions.push({ access, key: key.slice(), prefix: prefix === 1 });
    }
    roles.set(name, permissions);
  }
  return roles;
}
