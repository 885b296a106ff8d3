import assert from "node:assert/strict";
import { test } from "node:test";
import type { CallContext } from "../grpc/call.js";
import { Status } from "../grpc/status.js";
import { KvStore, noUser } from "../kv/index.js";
import { AuthFailureLimiter } from "../server/auth_limiter.js";
import type { ServerContext } from "../server/context.js";
import { logIndex } from "../util/ids.js";
import { authenticate } from "./auth_authenticate.js";
import { authorizeCall, requireRead, type EtcdCall } from "./auth_identity.js";
import * as auth from "./auth_service.js";
import { refusal } from "./fake_context.test.helper.js";
import { PermissionType } from "./messages/records.js";

const bytes = (text: string): Uint8Array => new Uint8Array(Buffer.from(text));

/** A member of one: proposals apply at once to the store, read barriers pass. */
function memberContext(): ServerContext {
  const kv = new KvStore();
  let index = 0;
  const raft = {
    id: 7,
    status: () => ({ term: 3 }),
    propose: (command: Uint8Array) => Promise.resolve(kv.apply(command, logIndex(++index))),
    readBarrier: () => Promise.resolve(),
  };
  const authServices = { tokenTtlMs: 60_000, limiter: new AuthFailureLimiter(), log: undefined, now: () => Date.now() };
  return { kv, node: { raft }, auth: authServices } as unknown as ServerContext;
}

function call(path: string, metadata: Record<string, string> = {}): CallContext {
  return {
    path,
    metadata,
    signal: new AbortController().signal,
    peerCertificate: () => undefined,
    peerVerified: false,
    secure: false,
    remoteAddress: "10.0.0.1",
  };
}

const as = (ctx: ServerContext, path: string, token?: string): EtcdCall =>
  authorizeCall(ctx, `/etcdserverpb.Auth/${path}`, call(path, token === undefined ? {} : { token }));

test("etcd's auth sequence: users, roles, prefix and key permissions, enable, tokens and root's calls", async () => {
  const ctx = memberContext();
  const open = (path: string): EtcdCall => as(ctx, path);
  await auth.userAdd(ctx, { name: "root", password: "pw" }, open("UserAdd"));
  await auth.userAdd(ctx, { name: "carol", password: "", options: { noPassword: true } }, open("UserAdd"));
  await auth.userAdd(ctx, { name: "alice", password: "alice-pw" }, open("UserAdd"));
  assert.equal(
    await refusal(() => auth.userAdd(ctx, { name: "alice", password: "x" }, open("UserAdd"))),
    `${Status.FAILED_PRECONDITION} etcdserver: user name already exists`,
  );
  assert.equal(
    await refusal(() => auth.userAdd(ctx, { name: "", password: "x" }, open("UserAdd"))),
    `${Status.INVALID_ARGUMENT} etcdserver: user name is empty`,
  );
  await auth.roleAdd(ctx, { name: "app" }, open("RoleAdd"));
  const grant = (key: string, rangeEnd: string, permType: number) =>
    auth.roleGrantPermission(
      ctx,
      { name: "app", perm: { permType, key: bytes(key), rangeEnd: bytes(rangeEnd) } },
      open("RoleGrantPermission"),
    );
  await grant("app/", "app0", PermissionType.Read);
  await grant("cfg", "", PermissionType.Readwrite);
  assert.match(await refusal(() => grant("a", "c", PermissionType.Read)), /^3 raftkv grants permissions on one key/);
  assert.equal(
    await refusal(() => auth.roleGet(ctx, { role: "nope" })),
    `${Status.FAILED_PRECONDITION} etcdserver: role name not found`,
  );
  const role = await auth.roleGet(ctx, { role: "app" });
  assert.deepEqual(
    role.perm.map((p) => [p.permType, Buffer.from(p.key).toString(), Buffer.from(p.rangeEnd).toString()]),
    [
      [PermissionType.Read, "app/", "app0"],
      [PermissionType.Readwrite, "cfg", ""],
    ],
  );
  await auth.userGrantRole(ctx, { user: "alice", role: "app" }, open("UserGrantRole"));
  assert.equal(
    await refusal(() => auth.userRevokeRole(ctx, { name: "carol", role: "app" }, open("UserRevokeRole"))),
    `${Status.FAILED_PRECONDITION} etcdserver: role is not granted to the user`,
  );
  assert.equal(
    await refusal(() => authenticate(ctx, { name: "root", password: "pw" }, open("Authenticate"))),
    `${Status.FAILED_PRECONDITION} etcdserver: authentication is not enabled`,
  );
});

test("with auth on: no identity, a wrong password, a forged or void token, a user calling root's calls, key permissions", async () => {
  const ctx = memberContext();
  const open = (path: string): EtcdCall => as(ctx, path);
  await auth.userAdd(ctx, { name: "root", password: "pw" }, open("UserAdd"));
  await auth.userAdd(ctx, { name: "alice", password: "alice-pw" }, open("UserAdd"));
  await auth.roleAdd(ctx, { name: "app" }, open("RoleAdd"));
  const perm = { permType: PermissionType.Read, key: bytes("app/"), rangeEnd: bytes("app0") };
  await auth.roleGrantPermission(ctx, { name: "app", perm }, open("RoleGrantPermission"));
  const cfg = { permType: PermissionType.Readwrite, key: bytes("cfg"), rangeEnd: bytes("") };
  await auth.roleGrantPermission(ctx, { name: "app", perm: cfg }, open("RoleGrantPermission"));
  await auth.userGrantRole(ctx, { user: "alice", role: "app" }, open("UserGrantRole"));
  await auth.authEnable(ctx, {}, open("AuthEnable"));
  assert.equal(auth.authStatus(ctx).enabled, true);
  assert.equal(await refusal(() => as(ctx, "RoleList")), `${Status.INVALID_ARGUMENT} etcdserver: user name is empty`);
  assert.equal(
    await refusal(() => authenticate(ctx, { name: "root", password: "wrong" }, as(ctx, "Authenticate"))),
    `${Status.INVALID_ARGUMENT} etcdserver: authentication failed, invalid user ID or password`,
  );
  const rootToken = (await authenticate(ctx, { name: "root", password: "pw" }, as(ctx, "Authenticate"))).token;
  const aliceToken = (await authenticate(ctx, { name: "alice", password: "alice-pw" }, as(ctx, "Authenticate"))).token;
  assert.deepEqual((await auth.roleList(ctx)).roles, ["app", "root"]);
  assert.equal(as(ctx, "RoleList", rootToken).principal, "root");
  assert.equal(
    await refusal(() => as(ctx, "RoleList", aliceToken)),
    `${Status.PERMISSION_DENIED} etcdserver: permission denied`,
  );
  assert.equal(
    await refusal(() => as(ctx, "RoleList", `${rootToken.slice(0, -2)}AA`)),
    `${Status.UNAUTHENTICATED} etcdserver: invalid auth token`,
  );
  // A user reads its own record, not another's.
  assert.deepEqual((await auth.userGet(ctx, { name: "alice" }, as(ctx, "UserGet", aliceToken))).roles, ["app"]);
  assert.equal(
    await refusal(() => auth.userGet(ctx, { name: "root" }, as(ctx, "UserGet", aliceToken))),
    `${Status.PERMISSION_DENIED} etcdserver: permission denied`,
  );
  assert.equal(
    await refusal(() => auth.userDelete(ctx, { name: "root" }, as(ctx, "UserDelete", rootToken))),
    `${Status.INVALID_ARGUMENT} etcdserver: invalid auth management`,
  );

  // Key permissions: alice reads app/ and cfg, nothing else.
  const kvCall = authorizeCall(ctx, "/etcdserverpb.KV/Range", call("Range", { token: aliceToken }));
  assert.equal(kvCall.principal, "alice");
  const span = (from: string, to: string) => ({ from, to });
  requireRead(ctx, "alice", span("app/a", "app/b"));
  requireRead(ctx, "alice", span("cfg", "cfg\u0000"));
  assert.equal(
    await refusal(() => requireRead(ctx, "alice", span("b", "c"))),
    `${Status.PERMISSION_DENIED} etcdserver: permission denied`,
  );
  assert.equal(
    await refusal(() => requireRead(ctx, noUser, span("app/a", "app/b"))),
    "7 etcdserver: permission denied",
  );

  // A changed password voids the tokens issued before it.
  await auth.userChangePassword(ctx, { name: "alice", password: "new" }, as(ctx, "UserChangePassword", rootToken));
  assert.equal(
    await refusal(() => as(ctx, "UserGet", aliceToken)),
    `${Status.UNAUTHENTICATED} etcdserver: invalid auth token`,
  );
  await auth.authDisable(ctx, {}, as(ctx, "AuthDisable", rootToken));
  assert.equal(as(ctx, "RoleList").principal, noUser);
});

test("a permission's range_end maps to raftkv's key or prefix both ways; every key is the prefix ''", async () => {
  const ctx = memberContext();
  const open = as(ctx, "RoleGrantPermission");
  await auth.roleAdd(ctx, { name: "r" }, open);
  const grant = (key: Uint8Array, rangeEnd: Uint8Array) =>
    auth.roleGrantPermission(ctx, { name: "r", perm: { permType: PermissionType.Write, key, rangeEnd } }, open);
  await grant(Uint8Array.of(0), Uint8Array.of(0));
  await grant(Uint8Array.of(0x61, 0xff), Uint8Array.of(0x62));
  const perms = (await auth.roleGet(ctx, { role: "r" })).perm.map((p) => [
    Buffer.from(p.key).toString("hex"),
    Buffer.from(p.rangeEnd).toString("hex"),
  ]);
  assert.deepEqual(perms, [
    ["00", "00"],
    ["61ff", "62"],
  ]);
  // Answering left the replicated permissions as they were (a Buffer's slice is a view).
  assert.deepEqual(
    (await auth.roleGet(ctx, { role: "r" })).perm.map((p) => Buffer.from(p.key).toString("hex")),
    ["00", "61ff"],
  );
  await auth.roleRevokePermission(ctx, { role: "r", key: new Uint8Array(0), rangeEnd: Uint8Array.of(0) }, open);
  assert.equal(
    await refusal(() =>
      auth.roleRevokePermission(ctx, { role: "r", key: new Uint8Array(0), rangeEnd: Uint8Array.of(0) }, open),
    ),
    `${Status.FAILED_PRECONDITION} etcdserver: permission is not granted to the role`,
  );
});

test("with auth on and no token, a verified client certificate's CN names the user; an unverified one names no one", async () => {
  const ctx = memberContext();
  const open = (path: string): EtcdCall => as(ctx, path);
  await auth.userAdd(ctx, { name: "root", password: "", options: { noPassword: true } }, open("UserAdd"));
  await auth.authEnable(ctx, {}, open("AuthEnable"));
  const withCertificate = (cn: string, verified: boolean): CallContext => ({
    ...call("RoleList"),
    peerVerified: verified,
    peerCertificate: () => ({ subject: { CN: cn } }) as unknown as ReturnType<CallContext["peerCertificate"]>,
  });
  const path = "/etcdserverpb.Auth/RoleList";
  assert.equal(authorizeCall(ctx, path, withCertificate("root", true)).principal, "root");
  assert.equal(
    await refusal(() => authorizeCall(ctx, path, withCertificate("mallory", true))),
    `${Status.PERMISSION_DENIED} etcdserver: permission denied`,
  );
  assert.equal(
    await refusal(() => authorizeCall(ctx, path, withCertificate("root", false))),
    `${Status.INVALID_ARGUMENT} etcdserver: user name is empty`,
  );
  // A certificate-only user cannot authenticate with a password, not even an empty one.
  assert.equal(
    await refusal(() => authenticate(ctx, { name: "root", password: "" }, as(ctx, "Authenticate"))),
    `${Status.INVALID_ARGUMENT} etcdserver: authentication failed, invalid user ID or password`,
  );
});
