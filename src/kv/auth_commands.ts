/*
 * The replicated auth state's commands (docs/auth.md): user, role and permission management and
 * enabling auth. Hashing passwords and choosing the token key happen at the proposer, so applying
 * these is deterministic.
 */

/** What a permission lets its holder do on its keys. */
export type Access = "read" | "write" | "readwrite";

/** One key (`prefix` false) or every key starting with `key` (`prefix` true; an empty prefix is every key). */
export interface Permission {
  readonly access: Access;
  readonly key: Uint8Array;
  readonly prefix: boolean;
}

/**
 * A password's scrypt record: the parameters it was made with stay beside the hash, so a later change
 * of the defaults leaves existing passwords valid. `logN` is log2 of scrypt's N.
 */
export interface PasswordHash {
  readonly logN: number;
  readonly r: number;
  readonly p: number;
  /** 1 to 255 bytes. */
  readonly salt: Uint8Array;
  /** 1 to 255 bytes. */
  readonly hash: Uint8Array;
}

/**
 * Names users and roles: 1 to authNameBytesMax characters of visible ASCII. `password` null makes a
 * user that authenticates by client certificate only.
 */
export type AuthCommand =
  | { readonly type: "userAdd"; readonly name: string; readonly password: PasswordHash | null }
  | { readonly type: "userDelete"; readonly name: string }
  | { readonly type: "userPassword"; readonly name: string; readonly password: PasswordHash | null }
  | { readonly type: "userGrantRole"; readonly name: string; readonly role: string }
  | { readonly type: "userRevokeRole"; readonly name: string; readonly role: string }
  | { readonly type: "roleAdd"; readonly name: string }
  | { readonly type: "roleDelete"; readonly name: string }
  | { readonly type: "roleGrantPermission"; readonly name: string; readonly permission: Permission }
  | { readonly type: "roleRevokePermission"; readonly name: string; readonly key: Uint8Array; readonly prefix: boolean }
  /** `tokenKey` (tokenKeyBytes random bytes, chosen by the proposer) signs every token until auth is disabled. */
  | { readonly type: "authEnable"; readonly tokenKey: Uint8Array }
  | { readonly type: "authDisable" };

/** Why an auth command changed nothing (besides a denied permission). */
export type AuthRefusal =
  | "userExists"
  | "userNotFound"
  | "roleExists"
  | "roleNotFound"
  | "permissionNotFound"
  | "rootRequired"
  | "noRootUser"
  | "tooMany";

export const authCommandTypes: ReadonlySet<string> = new Set<AuthCommand["type"]>([
  "userAdd",
  "userDelete",
  "userPassword",
  "userGrantRole",
  "userRevokeRole",
  "roleAdd",
  "roleDelete",
  "roleGrantPermission",
  "roleRevokePermission",
  "authEnable",
  "authDisable",
]);

/** The user and the role that may do everything once auth is enabled. */
export const rootName = "root";
