import { checkAuthName, type Access, type Permission } from "../kv/index.js";
import { forbidden } from "./auth_gate.js";
import { linearizable, proposeAuth } from "./auth_propose.js";
import type { Request, ServerContext } from "./context.js";
import { HttpError, readJson, sendJson } from "./http_util.js";
import { hashPassword } from "./passwords.js";
import { decodeKeyText, rawQuery } from "./wire.js";

/*
 * The management routes of docs/auth.md: root's once auth is enabled (the route table says so),
 * anyone's before. Changes are log entries; reads follow a read barrier.
 */

const adminBodyBytesMax = 64 * 1024;
const passwordBytesMax = 1024;
const accesses: readonly Access[] = ["read", "write", "readwrite"];

/** A user or role name from the path. */
function nameParam(request: Request, at = 0): string {
  let name: string;
  try {
    name = decodeURIComponent(request.params[at] ?? "");
  } catch {
    throw new HttpError(400, "bad_request", "the name has a malformed %-escape");
  }
  return checkedName(name, "name");
}

function checkedName(name: unknown, what: string): string {
  const problem = typeof name === "string" ? checkAuthName(name) : "a name is a string";
  if (problem !== undefined) throw new HttpError(400, "bad_request", `${what}: ${problem}`);
  return name as string;
}

async function bodyOf(request: Request): Promise<Record<string, unknown>> {
  const body = await readJson(request.req, adminBodyBytesMax);
  if (typeof body !== "object" || body === null || Array.isArray(body))
    throw new HttpError(400, "bad_request", "the body must be a JSON object");
  return body as Record<string, unknown>;
}

/** `null` (certificate only) or 1 to passwordBytesMax bytes, hashed here: the log never sees a password. */
async function passwordOf(body: Record<string, unknown>): Promise<Awaited<ReturnType<typeof hashPassword>> | null> {
  const { password } = body;
  if (password === null) return null;
  if (typeof password !== "string" || password.length === 0 || Buffer.byteLength(password) > passwordBytesMax)
    throw new HttpError(400, "bad_request", `password must be 1 to ${passwordBytesMax} bytes, or null`);
  return hashPassword(password);
}

export async function listUsers(ctx: ServerContext, request: Request): Promise<void> {
  await linearizable(ctx);
  sendJson(request.res, 200, { users: ctx.kv.auth.userNames() });
}

/** GET /v1/auth/users/{name}: root's, or the user's own. */
export async function getUser(ctx: ServerContext, request: Request): Promise<void> {
  const name = nameParam(request);
  const auth = ctx.kv.auth;
  if (auth.enabled() && request.principal !== name && !auth.isRoot(request.principal))
    throw forbidden("only root or the user itself may see a user");
  await linearizable(ctx);
  const user = auth.user(name);
  if (user === undefined) throw new HttpError(404, "user_not_found", "no such user");
  sendJson(request.res, 200, { name, roles: user.roles });
}

export async function addUser(ctx: ServerContext, request: Request): Promise<void> {
  const body = await bodyOf(request);
  const name = checkedName(body.name, "name");
  await proposeAuth(ctx, request, { type: "userAdd", name, password: await passwordOf(body) });
}

export async function deleteUser(ctx: ServerContext, request: Request): Promise<void> {
  await proposeAuth(ctx, request, { type: "userDelete", name: nameParam(request) });
}

/** POST /v1/auth/users/{name}/password: the user's tokens issued before are void after it. */
export async function setPassword(ctx: ServerContext, request: Request): Promise<void> {
  const name = nameParam(request);
  const password = await passwordOf(await bodyOf(request));
  await proposeAuth(ctx, request, { type: "userPassword", name, password });
}

export async function grantRole(ctx: ServerContext, request: Request): Promise<void> {
  const name = nameParam(request);
  const role = checkedName((await bodyOf(request)).role, "role");
  await proposeAuth(ctx, request, { type: "userGrantRole", name, role });
}

export async function revokeRole(ctx: ServerContext, request: Request): Promise<void> {
  await proposeAuth(ctx, request, { type: "userRevokeRole", name: nameParam(request), role: nameParam(request, 1) });
}

export async function listRoles(ctx: ServerContext, request: Request): Promise<void> {
  await linearizable(ctx);
  sendJson(request.res, 200, { roles: ctx.kv.auth.roleNames() });
}

export async function getRole(ctx: ServerContext, request: Request): Promise<void> {
  const name = nameParam(request);
  await linearizable(ctx);
  const permissions = ctx.kv.auth.role(name);
  if (permissions === undefined) throw new HttpError(404, "role_not_found", "no such role");
  sendJson(request.res, 200, { name, permissions: permissions.map(permissionJson) });
}

export async function addRole(ctx: ServerContext, request: Request): Promise<void> {
  await proposeAuth(ctx, request, { type: "roleAdd", name: checkedName((await bodyOf(request)).name, "name") });
}

export async function deleteRole(ctx: ServerContext, request: Request): Promise<void> {
  await proposeAuth(ctx, request, { type: "roleDelete", name: nameParam(request) });
}

/** POST /v1/auth/roles/{name}/permissions {"type", "prefix"|"key", "encoding"?}. */
export async function grantPermission(ctx: ServerContext, request: Request): Promise<void> {
  const name = nameParam(request);
  const body = await bodyOf(request);
  const access = body.type;
  if (!accesses.includes(access as Access))
    throw new HttpError(400, "bad_request", "type must be read, write or readwrite");
  if (body.encoding !== undefined && body.encoding !== "base64")
    throw new HttpError(400, "bad_request", 'encoding is "base64" or absent (UTF-8 text)');
  const place = body.prefix !== undefined ? body.prefix : body.key;
  if ((body.prefix === undefined) === (body.key === undefined) || typeof place !== "string")
    throw new HttpError(400, "bad_request", "give exactly one of prefix and key, as a string");
  const key = new Uint8Array(Buffer.from(place, body.encoding === "base64" ? "base64" : "utf8"));
  const permission: Permission = { access: access as Access, key, prefix: body.prefix !== undefined };
  await proposeAuth(ctx, request, { type: "roleGrantPermission", name, permission });
}

/** DELETE /v1/auth/roles/{name}/permissions?prefix=P or ?key=K (percent-encoded bytes). */
export async function revokePermission(ctx: ServerContext, request: Request): Promise<void> {
  const name = nameParam(request);
  const raw = rawQuery(request.url.search);
  const prefix = raw.get("prefix");
  const key = raw.get("key");
  if ((prefix === undefined) === (key === undefined))
    throw new HttpError(400, "bad_request", "give exactly one of prefix=P and key=K");
  const bytes = decodeKeyText(prefix ?? key!, prefix === undefined ? "key" : "prefix");
  await proposeAuth(ctx, request, { type: "roleRevokePermission", name, key: bytes, prefix: prefix !== undefined });
}

/** A permission as JSON: its key as UTF-8 text when it is that, else base64 with `"encoding": "base64"`. */
function permissionJson(p: Permission): Record<string, string> {
  const bytes = Buffer.from(p.key);
  const text = bytes.toString("utf8");
  const place = p.prefix ? "prefix" : "key";
  return Buffer.from(text, "utf8").equals(bytes)
    ? { type: p.access, [place]: text }
    : { type: p.access, [place]: bytes.toString("base64"), encoding: "base64" };
}
