/**
 * `client.auth`: the authentication management calls of docs/api.md, "Authentication". Once auth is
 * enabled they need the root role (`user.get` also the user itself); before, anyone may call them.
 * Like lease calls they are log entries without an exactly-once session: a retry after an unknown
 * outcome may act twice, and then answers what the second try found (409 user_exists, 404 ...).
 */
import {
  decodeAuthRevision,
  decodeAuthStatus,
  decodeRole,
  decodeRoleNames,
  decodeUser,
  decodeUserNames,
  encodePermission,
  type AuthRevision,
  type AuthRole,
  type AuthStatus,
  type AuthToken,
  type AuthUser,
  type Permission,
  type PermissionScope,
} from "./auth_codec.js";
import type { TokenKeeper } from "./auth_token.js";
import { jsonBody, type Caller } from "./caller.js";
import { percentEncode, toBytes } from "./codec.js";
import type { HttpMethod } from "./transport.js";

type Change = (method: HttpMethod, path: string, body?: unknown) => Promise<AuthRevision>;

export interface AuthUsers {
  /** A user; with `password: null`, one that can only authenticate by a TLS client certificate. */
  add(name: string, password: string | null): Promise<AuthRevision>;
  delete(name: string): Promise<AuthRevision>;
  /** Sets the password; tokens issued to the user before stop working. */
  passwd(name: string, password: string): Promise<AuthRevision>;
  grantRole(name: string, role: string): Promise<AuthRevision>;
  revokeRole(name: string, role: string): Promise<AuthRevision>;
  list(): Promise<string[]>;
  get(name: string): Promise<AuthUser>;
}

export interface AuthRoles {
  add(name: string): Promise<AuthRevision>;
  delete(name: string): Promise<AuthRevision>;
  /** Gives the role read, write or both on a key or on every key with a prefix. */
  grant(name: string, permission: Permission): Promise<AuthRevision>;
  /** Takes back the role's permission on that key or prefix, whatever its type. */
  revoke(name: string, scope: PermissionScope): Promise<AuthRevision>;
  list(): Promise<string[]>;
  get(name: string): Promise<AuthRole>;
}

export class RaftkvAuth {
  readonly user: AuthUsers;
  readonly role: AuthRoles;
  readonly #caller: Caller;
  readonly #plain: Caller;
  readonly #tokens: TokenKeeper | undefined;
  readonly #change: Change;

  /** `plain` sends no token: for the routes that are always open. */
  constructor(caller: Caller, plain: Caller, tokens: TokenKeeper | undefined) {
    this.#caller = caller;
    this.#plain = plain;
    this.#tokens = tokens;
    this.#change = (method, path, body) =>
      caller.json(
        { method, path, ...(body === undefined ? {} : jsonBody(body)), write: true, session: false },
        decodeAuthRevision,
      );
    this.user = this.#users();
    this.role = this.#roles();
  }

  /**
   * Authenticates with the client's user and password now and sends the new token from then on;
   * undefined when auth is not enabled. A client without a user and password rejects.
   */
  authenticate(): Promise<AuthToken | undefined> {
    if (this.#tokens === undefined) return Promise.reject(new RangeError("this client has no auth option"));
    return this.#tokens.authenticate();
  }

  /** Whether auth is enabled (always answered, with or without credentials). */
  status(): Promise<AuthStatus> {
    return this.#plain.json({ method: "GET", path: "/v1/auth/status", write: false }, decodeAuthStatus);
  }

  /** Turns auth on; the user `root` must exist, and gets the `root` role. */
  enable(): Promise<AuthRevision> {
    return this.#change("POST", "/v1/auth/enable");
  }

  disable(): Promise<AuthRevision> {
    return this.#change("POST", "/v1/auth/disable");
  }

  #users(): AuthUsers {
    const change = this.#change;
    const caller = this.#caller;
    const user = (name: string): string => `/v1/auth/users/${percentEncode(name)}`;
    return {
      add: (name, password) => change("POST", "/v1/auth/users", { name, password }),
      delete: (name) => change("DELETE", user(name)),
      passwd: (name, password) => change("POST", `${user(name)}/password`, { password }),
      grantRole: (name, role) => change("POST", `${user(name)}/roles`, { role }),
      revokeRole: (name, role) => change("DELETE", `${user(name)}/roles/${percentEncode(role)}`),
      list: () => caller.json({ method: "GET", path: "/v1/auth/users", write: false }, decodeUserNames),
      get: (name) => caller.json({ method: "GET", path: user(name), write: false }, decodeUser),
    };
  }

  #roles(): AuthRoles {
    const change = this.#change;
    const caller = this.#caller;
    const role = (name: string): string => `/v1/auth/roles/${percentEncode(name)}`;
    return {
      add: (name) => change("POST", "/v1/auth/roles", { name }),
      delete: (name) => change("DELETE", role(name)),
      grant: (name, permission) => change("POST", `${role(name)}/permissions`, encodePermission(permission)),
      revoke: (name, scope) => {
        const query =
          "prefix" in scope
            ? `prefix=${percentEncode(toBytes(scope.prefix))}`
            : `key=${percentEncode(toBytes(scope.key))}`;
        return change("DELETE", `${role(name)}/permissions?${query}`);
      },
      list: () => caller.json({ method: "GET", path: "/v1/auth/roles", write: false }, decodeRoleNames),
      get: (name) => caller.json({ method: "GET", path: role(name), write: false }, decodeRole),
    };
  }
}
