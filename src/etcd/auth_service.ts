/**
 * etcd's Auth service on raftkv's replicated users, roles and permissions (docs/auth.md): changes
 * are log entries carrying the caller as principal, reads follow a read barrier. Root's once auth is
 * enabled, anyone's before (auth_identity.ts says which call needs what).
 */
import { randomBytes } from "node:crypto";
import { GrpcError, Status } from "../grpc/status.js";
import { checkAuthName, rootName, tokenKeyBytes, type PasswordHash } from "../kv/index.js";
import type { ServerContext } from "../server/context.js";
import { hashPassword } from "../server/passwords.js";
import type { EtcdCall } from "./auth_identity.js";
import { etcdPermissionOf, permissionOf, permissionPlace } from "./auth_permissions.js";
import { linearizable, proposeAuth } from "./auth_propose.js";
import { etcdError } from "./errors.js";
import { header } from "./header.js";
import type * as m from "./messages/auth.js";

const passwordBytesMax = 1024;

/** A user's or role's name: etcd's error when empty, raftkv's rule (visible ASCII, 1 to 128) otherwise. */
function checkedName(name: string, what: "user" | "role"): string {
  if (name.length === 0) throw etcdError(what === "user" ? "userEmpty" : "roleEmpty");
  const problem = checkAuthName(name);
  if (problem !== undefined) throw new GrpcError(Status.INVALID_ARGUMENT, `raftkv: ${what} name: ${problem}`);
  return name;
}

/** Hashed here, so the log never holds a password. */
async function hashed(password: string): Promise<PasswordHash> {
  if (password.length === 0 || Buffer.byteLength(password) > passwordBytesMax)
    throw new GrpcError(Status.INVALID_ARGUMENT, `raftkv: a password is 1 to ${passwordBytesMax} bytes`);
  return hashPassword(password);
}

/** Enabling needs user root; raftkv then makes role root and grants it (etcdctl does the same before asking). */
export async function authEnable(ctx: ServerContext, _: m.AuthEnableRequest, call: EtcdCall) {
  if (!ctx.kv.auth.enabled() && ctx.kv.auth.user(rootName) === undefined) throw etcdError("rootUserNotExist");
  return proposeAuth(ctx, call, { type: "authEnable", tokenKey: new Uint8Array(randomBytes(tokenKeyBytes)) });
}

export function authDisable(ctx: ServerContext, _: m.AuthDisableRequest, call: EtcdCall) {
  return proposeAuth(ctx, call, { type: "authDisable" });
}

export function authStatus(ctx: ServerContext): m.AuthStatusResponse {
  return { header: header(ctx), enabled: ctx.kv.auth.enabled(), authRevision: ctx.kv.auth.revision() };
}

/** `options.no_password` makes a user that can only authenticate with a client certificate. */
export async function userAdd(ctx: ServerContext, request: m.AuthUserAddRequest, call: EtcdCall) {
  const name = checkedName(request.name, "user");
  const password = request.options?.noPassword === true ? null : await hashed(request.password);
  return proposeAuth(ctx, call, { type: "userAdd", name, password });
}

/** Root's, or the user's own record. */
export async function userGet(
  ctx: ServerContext,
  request: m.AuthUserGetRequest,
  call: EtcdCall,
): Promise<m.AuthUserGetResponse> {
  const name = checkedName(request.name, "user");
  const auth = ctx.kv.auth;
  if (auth.enabled() && call.principal !== name && !auth.isRoot(call.principal)) throw etcdError("permissionDenied");
  await linearizable(ctx);
  const user = auth.user(name);
  if (user === undefined) throw etcdError("userNotFound");
  return { header: header(ctx), roles: [...user.roles] };
}

export async function userList(ctx: ServerContext): Promise<m.AuthUserListResponse> {
  await linearizable(ctx);
  return { header: header(ctx), users: ctx.kv.auth.userNames() };
}

export function userDelete(ctx: ServerContext, request: m.AuthUserDeleteRequest, call: EtcdCall) {
  return proposeAuth(ctx, call, { type: "userDelete", name: checkedName(request.name, "user") });
}

/** The user's tokens issued before are void after it. */
export async function userChangePassword(ctx: ServerContext, request: m.AuthUserChangePasswordRequest, call: EtcdCall) {
  const name = checkedName(request.name, "user");
  return proposeAuth(ctx, call, { type: "userPassword", name, password: await hashed(request.password) });
}

export function userGrantRole(ctx: ServerContext, request: m.AuthUserGrantRoleRequest, call: EtcdCall) {
  const name = checkedName(request.user, "user");
  return proposeAuth(ctx, call, { type: "userGrantRole", name, role: checkedName(request.role, "role") });
}

export function userRevokeRole(ctx: ServerContext, request: m.AuthUserRevokeRoleRequest, call: EtcdCall) {
  const name = checkedName(request.name, "user");
  const role = checkedName(request.role, "role");
  return proposeAuth(ctx, call, { type: "userRevokeRole", name, role }, "roleNotGranted");
}

export function roleAdd(ctx: ServerContext, request: m.AuthRoleAddRequest, call: EtcdCall) {
  return proposeAuth(ctx, call, { type: "roleAdd", name: checkedName(request.name, "role") });
}

export async function roleGet(ctx: ServerContext, request: m.AuthRoleGetRequest): Promise<m.AuthRoleGetResponse> {
  const name = checkedName(request.role, "role");
  await linearizable(ctx);
  const permissions = ctx.kv.auth.role(name);
  if (permissions === undefined) throw etcdError("roleNotFound");
  return { header: header(ctx), perm: permissions.map(etcdPermissionOf) };
}

export async function roleList(ctx: ServerContext): Promise<m.AuthRoleListResponse> {
  await linearizable(ctx);
  return { header: header(ctx), roles: ctx.kv.auth.roleNames() };
}

export function roleDelete(ctx: ServerContext, request: m.AuthRoleDeleteRequest, call: EtcdCall) {
  return proposeAuth(ctx, call, { type: "roleDelete", name: checkedName(request.role, "role") });
}

export function roleGrantPermission(ctx: ServerContext, request: m.AuthRoleGrantPermissionRequest, call: EtcdCall) {
  const name = checkedName(request.name, "role");
  return proposeAuth(ctx, call, { type: "roleGrantPermission", name, permission: permissionOf(request.perm) });
}

export function roleRevokePermission(ctx: ServerContext, request: m.AuthRoleRevokePermissionRequest, call: EtcdCall) {
  const name = checkedName(request.role, "role");
  const { key, prefix } = permissionPlace(request.key, request.rangeEnd);
  return proposeAuth(ctx, call, { type: "roleRevokePermission", name, key, prefix });
}
