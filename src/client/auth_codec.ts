/**
 * The wire form of the authentication routes (docs/api.md, "Authentication"), decoded at the boundary
 * as codec.ts does for the KV routes. Permission keys and prefixes travel as base64 with
 * `"encoding": "base64"`, so binary ones round-trip exactly; answers in UTF-8 text are accepted too.
 */
import { array, base64, boolean, DecodeError, fromBase64, integer, object, string, toBytes } from "./codec.js";
import type { Bytes } from "./types.js";

/** A token from `POST /v1/auth/authenticate`; `expiresAt` in ms since the epoch (the server's clock). */
export interface AuthToken {
  readonly token: string;
  readonly expiresAt: number;
}

export interface AuthStatus {
  readonly enabled: boolean;
  /** The auth revision: it grows with every change to users, roles or the enabled flag. */
  readonly revision: number;
}

/** The answer of every successful management call: the auth revision after it. */
export interface AuthRevision {
  readonly revision: number;
}

export interface AuthUser {
  readonly name: string;
  readonly roles: string[];
}

export type PermissionType = "read" | "write" | "readwrite";
export const permissionTypes: readonly PermissionType[] = ["read", "write", "readwrite"];

/** Keys starting with `prefix`, or exactly `key`. */
export type PermissionScope = { readonly prefix: Bytes } | { readonly key: Bytes };

/** As given to `role.grant`; as answered by `role.get`, its bytes are Uint8Arrays. */
export type Permission = { readonly type: PermissionType } & PermissionScope;

export type GrantedPermission =
  | { readonly type: PermissionType; readonly prefix: Uint8Array }
  | { readonly type: PermissionType; readonly key: Uint8Array };

export interface AuthRole {
  readonly name: string;
  readonly permissions: GrantedPermission[];
}

export function encodePermission(permission: Permission): Record<string, string> {
  if (!permissionTypes.includes(permission.type)) {
    throw new RangeError(
      `a permission's type is one of ${permissionTypes.join(", ")}, got ${permission.type as string}`,
    );
  }
  const scope = "prefix" in permission ? { prefix: base64(permission.prefix) } : { key: base64(permission.key) };
  return { type: permission.type, ...scope, encoding: "base64" };
}

export function decodeAuthToken(value: unknown): AuthToken {
  const json = object(value, "an authenticate answer");
  return { token: string(json, "token"), expiresAt: integer(json, "expiresAt") };
}

export function decodeAuthStatus(value: unknown): AuthStatus {
  const json = object(value, "an auth status");
  return { enabled: boolean(json, "enabled"), revision: integer(json, "revision") };
}

export function decodeAuthRevision(value: unknown): AuthRevision {
  return { revision: integer(object(value, "an auth answer"), "revision") };
}

function names(value: unknown, field: string): string[] {
  return array(value, `"${field}"`).map((item) => {
    if (typeof item !== "string") throw new DecodeError(`"${field}" holds something other than a name`);
    return item;
  });
}

export function decodeUserNames(value: unknown): string[] {
  return names(object(value, "a user list")["users"], "users");
}

export function decodeRoleNames(value: unknown): string[] {
  return names(object(value, "a role list")["roles"], "roles");
}

export function decodeUser(value: unknown): AuthUser {
  const json = object(value, "a user");
  return { name: string(json, "name"), roles: names(json["roles"], "roles") };
}

function decodePermission(value: unknown): GrantedPermission {
  const json = object(value, "a permission");
  const type = permissionTypes.find((t) => t === json["type"]);
  if (type === undefined) throw new DecodeError(`"type" is not one of ${permissionTypes.join(", ")}`);
  const field = json["prefix"] !== undefined ? "prefix" : "key";
  const text = string(json, field);
  const bytes = json["encoding"] === "base64" ? fromBase64(text, `"${field}"`) : toBytes(text);
  return field === "prefix" ? { type, prefix: bytes } : { type, key: bytes };
}

export function decodeRole(value: unknown): AuthRole {
  const json = object(value, "a role");
  return { name: string(json, "name"), permissions: array(json["permissions"], '"permissions"').map(decodePermission) };
}
