import { asciiBytes, asciiString, isVisibleAscii, type Reader, type Writer } from "./binary.js";
import type { Access, AuthCommand, PasswordHash, Permission } from "./auth_commands.js";
import { authNameBytesMax, keyBytesMax, tokenKeyBytes } from "./limits.js";

/*
 * The bodies of the auth commands inside a command (command_codec.ts), little-endian:
 *   name        u8 length (1..authNameBytesMax), visible ASCII
 *   password    u8 present; if 1: u8 logN, u8 r, u8 p, u8 salt length, salt, u8 hash length, hash
 *   permission  u8 access (1 read, 2 write, 3 readwrite), u8 prefix (0 or 1), u16 key length, key
 *               (1..keyBytesMax bytes; an empty key only as a prefix, meaning every key)
 *   userAdd, userPassword  name, password      userDelete, roleAdd, roleDelete  name
 *   userGrantRole, userRevokeRole  name, role name      roleGrantPermission  name, permission
 *   roleRevokePermission  name, u8 prefix, u16 key length, key      authEnable  tokenKeyBytes bytes
 *   authDisable  nothing
 */

export const authKindCodes = {
  userAdd: 8,
  userDelete: 9,
  userPassword: 10,
  userGrantRole: 11,
  userRevokeRole: 12,
  roleAdd: 13,
  roleDelete: 14,
  roleGrantPermission: 15,
  roleRevokePermission: 16,
  authEnable: 17,
  authDisable: 18,
} as const;

const accessCodes = { read: 1, write: 2, readwrite: 3 } as const;
const accesses: readonly Access[] = ["read", "write", "readwrite"];

/** Why `name` cannot name a user or role (1 to authNameBytesMax visible ASCII characters), or undefined. */
export function checkAuthName(name: string): string | undefined {
  if (typeof name !== "string" || name.length === 0 || name.length > authNameBytesMax)
    return `a name is 1 to ${authNameBytesMax} characters`;
  return asciiBytes(name) === undefined ? "a name is visible ASCII (0x21 to 0x7E)" : undefined;
}

/** Why `key` cannot be a permission's key, or undefined. */
function checkPermissionKey(key: Uint8Array, prefix: boolean): string | undefined {
  if (!(key instanceof Uint8Array)) return "a permission key is bytes";
  if (key.length > keyBytesMax) return `a permission key is at most ${keyBytesMax} bytes`;
  return key.length === 0 && !prefix ? "an empty permission key is only allowed as a prefix" : undefined;
}

function checkPassword(password: PasswordHash | null): string | undefined {
  if (password === null) return undefined;
  const { logN, r, p, salt, hash } = password;
  const byte = (n: number): boolean => Number.isInteger(n) && n >= 1 && n <= 255;
  if (!byte(logN) || !byte(r) || !byte(p)) return "password parameters are 1 to 255";
  const bytes = (b: Uint8Array): boolean => b instanceof Uint8Array && b.length >= 1 && b.length <= 255;
  return bytes(salt) && bytes(hash) ? undefined : "a password's salt and hash are 1 to 255 bytes";
}

export function passwordSize(password: PasswordHash | null): number {
  return password === null ? 1 : 6 + password.salt.length + password.hash.length;
}

/** The body's size, or why the command cannot be encoded. */
export function authBodySize(command: AuthCommand): number | string {
  if (command.type === "authDisable") return 0;
  if (command.type === "authEnable")
    return command.tokenKey instanceof Uint8Array && command.tokenKey.length === tokenKeyBytes
      ? tokenKeyBytes
      : `authEnable: the token key is ${tokenKeyBytes} bytes`;
  const nameProblem = checkAuthName(command.name);
  if (nameProblem !== undefined) return `${command.type}: ${nameProblem}`;
  const name = 1 + command.name.length;
  switch (command.type) {
    case "userDelete":
    case "roleAdd":
    case "roleDelete":
      return name;
    case "userAdd":
    case "userPassword": {
      const problem = checkPassword(command.password);
      return problem === undefined ? name + passwordSize(command.password) : `${command.type}: ${problem}`;
    }
    case "userGrantRole":
    case "userRevokeRole": {
      const problem = checkAuthName(command.role);
      return problem === undefined ? name + 1 + command.role.length : `${command.type} role: ${problem}`;
    }
    case "roleGrantPermission": {
      const { access, key, prefix } = command.permission;
      if (!accesses.includes(access)) return "roleGrantPermission: access is read, write or readwrite";
      const problem = checkPermissionKey(key, prefix);
      return problem === undefined ? name + 4 + key.length : `roleGrantPermission: ${problem}`;
    }
    case "roleRevokePermission": {
      const problem = checkPermissionKey(command.key, command.prefix);
      return problem === undefined ? name + 3 + command.key.length : `roleRevokePermission: ${problem}`;
    }
  }
}

export function writeAuthBody(w: Writer, command: AuthCommand): void {
  if (command.type === "authDisable") return;
  if (command.type === "authEnable") {
    w.raw(command.tokenKey);
    return;
  }
  writeName(w, command.name);
  switch (command.type) {
    case "userDelete":
    case "roleAdd":
    case "roleDelete":
      return;
    case "userAdd":
    case "userPassword":
      writePassword(w, command.password);
      return;
    case "userGrantRole":
    case "userRevokeRole":
      writeName(w, command.role);
      return;
    case "roleGrantPermission":
      w.u8(accessCodes[command.permission.access]);
      w.u8(command.permission.prefix ? 1 : 0);
      w.bytes16(command.permission.key);
      return;
    case "roleRevokePermission":
      w.u8(command.prefix ? 1 : 0);
      w.bytes16(command.key);
      return;
  }
}

export function writeName(w: Writer, name: string): void {
  w.u8(name.length);
  w.raw(asciiBytes(name)!);
}

export function writePassword(w: Writer, password: PasswordHash | null): void {
  w.u8(password === null ? 0 : 1);
  if (password === null) return;
  w.u8(password.logN);
  w.u8(password.r);
  w.u8(password.p);
  w.u8(password.salt.length);
  w.raw(password.salt);
  w.u8(password.hash.length);
  w.raw(password.hash);
}

/** The auth command of kind `kind` (one of authKindCodes), or why the bytes are not one. */
export function readAuthBody(r: Reader, kind: number): AuthCommand | string {
  if (kind > authKindCodes.authDisable) return `unknown command kind ${kind}`;
  if (kind === authKindCodes.authDisable) return { type: "authDisable" };
  if (kind === authKindCodes.authEnable) {
    const tokenKey = r.raw(tokenKeyBytes);
    return tokenKey === undefined ? "truncated authEnable token key" : { type: "authEnable", tokenKey };
  }
  const read = readAuthName(r);
  if (typeof read !== "string") return read.problem;
  const name = read;
  switch (kind) {
    case authKindCodes.userDelete:
      return { type: "userDelete", name };
    case authKindCodes.roleAdd:
      return { type: "roleAdd", name };
    case authKindCodes.roleDelete:
      return { type: "roleDelete", name };
    case authKindCodes.userAdd:
    case authKindCodes.userPassword: {
      const password = readPassword(r);
      if (typeof password === "string") return password;
      return { type: kind === authKindCodes.userAdd ? "userAdd" : "userPassword", name, password };
    }
    case authKindCodes.userGrantRole:
    case authKindCodes.userRevokeRole: {
      const role = readAuthName(r);
      if (typeof role !== "string") return role.problem;
      return { type: kind === authKindCodes.userGrantRole ? "userGrantRole" : "userRevokeRole", name, role };
    }
    case authKindCodes.roleGrantPermission: {
      const access = accesses[(r.u8() ?? 0) - 1];
      if (access === undefined) return "roleGrantPermission: unknown access";
      const permission = readPermissionKey(r);
      return typeof permission === "string"
        ? permission
        : { type: "roleGrantPermission", name, permission: { access, ...permission } };
    }
    case authKindCodes.roleRevokePermission: {
      const permission = readPermissionKey(r);
      return typeof permission === "string" ? permission : { type: "roleRevokePermission", name, ...permission };
    }
    default:
      return `unknown command kind ${kind}`; // below userAdd: the caller sends those elsewhere
  }
}

/** A name, or why the bytes are not one. */
function readAuthName(r: Reader): string | { readonly problem: string } {
  const length = r.u8();
  if (length === undefined || length === 0 || length > authNameBytesMax)
    return { problem: "bad or truncated name length" };
  const bytes = r.raw(length);
  if (bytes === undefined) return { problem: "truncated name" };
  if (!isVisibleAscii(bytes)) return { problem: "a name is not visible ASCII" };
  return asciiString(bytes);
}

function readPermissionKey(r: Reader): Omit<Permission, "access"> | string {
  const prefixFlag = r.u8();
  if (prefixFlag !== 0 && prefixFlag !== 1) return "permission: bad prefix flag";
  const key = r.bytes16();
  if (key === undefined) return "truncated permission key";
  const prefix = prefixFlag === 1;
  return checkPermissionKey(key, prefix) ?? { key, prefix };
}

function readPassword(r: Reader): PasswordHash | null | string {
  const present = r.u8();
  if (present === 0) return null;
  if (present !== 1) return "password: bad presence flag";
  const logN = r.u8();
  const rr = r.u8();
  const p = r.u8();
  const saltLength = r.u8();
  const salt = saltLength === undefined ? undefined : r.raw(saltLength);
  const hashLength = r.u8();
  const hash = hashLength === undefined ? undefined : r.raw(hashLength);
  if (logN === undefined || rr === undefined || p === undefined || salt === undefined || hash === undefined)
    return "truncated password";
  const password = { logN, r: rr, p, salt, hash };
  return checkPassword(password) ?? password;
}

/** A command's principal (command_codec.ts): u8 length, 0 for noUser, then the name. */
export function readPrincipal(r: Reader): string | { readonly problem: string } {
  const length = r.u8();
  if (length === undefined) return { problem: "truncated" };
  if (length === 0) return "";
  if (length > authNameBytesMax) return { problem: `longer than ${authNameBytesMax} characters` };
  const bytes = r.raw(length);
  if (bytes === undefined) return { problem: "truncated" };
  return isVisibleAscii(bytes) ? asciiString(bytes) : { problem: "not visible ASCII" };
}
