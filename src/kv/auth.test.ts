import assert from "node:assert/strict";
import { test } from "node:test";
import { crc32c } from "../util/crc32c.js";
import type { AuthCommand, PasswordHash } from "./auth_commands.js";
import { decodeCommand, encodeCommand } from "./command_codec.js";
import type { KvCommand } from "./commands.js";
import { noUser } from "./commands.js";
import { keySpan, rangeSpan } from "./key_span.js";
import { validateCommand } from "./command_checks.js";
import type { KvResult } from "./results.js";
import { KvStore } from "./store.js";
import { applyAll, bytes } from "./test_support.test.helper.js";

const hash: PasswordHash = { logN: 14, r: 8, p: 1, salt: new Uint8Array(16).fill(7), hash: new Uint8Array(32).fill(9) };
const tokenKey = new Uint8Array(32).fill(3);

function run(store: KvStore, commands: readonly KvCommand[]): KvResult[] {
  return applyAll(
    store,
    commands.map((c) => encodeCommand(c)),
  );
}

/** A store with root, user alice holding role app (readwrite on prefix "app/", read on key "cfg"), auth on. */
function securedStore(): KvStore {
  const store = new KvStore();
  const results = run(store, [
    { type: "userAdd", name: "root", password: hash, principal: noUser },
    { type: "userAdd", name: "alice", password: hash, principal: noUser },
    { type: "roleAdd", name: "app" },
    { type: "roleGrantPermission", name: "app", permission: { access: "readwrite", key: bytes("app/"), prefix: true } },
    { type: "roleGrantPermission", name: "app", permission: { access: "read", key: bytes("cfg"), prefix: false } },
    { type: "userGrantRole", name: "alice", role: "app" },
    { type: "authEnable", tokenKey, principal: noUser },
  ]);
  for (const r of results) assert.equal(r.type, "authChanged", JSON.stringify(r));
  return store;
}

test("every auth command, with and without a principal, survives encode → decode unchanged", () => {
  const commands: AuthCommand[] = [
    { type: "userAdd", name: "alice", password: hash },
    { type: "userAdd", name: "cert-only", password: null },
    { type: "userDelete", name: "alice" },
    { type: "userPassword", name: "alice", password: hash },
    { type: "userGrantRole", name: "alice", role: "app" },
    { type: "userRevokeRole", name: "alice", role: "app" },
    { type: "roleAdd", name: "app" },
    { type: "roleDelete", name: "app" },
    { type: "roleGrantPermission", name: "app", permission: { access: "write", key: new Uint8Array(0), prefix: true } },
    { type: "roleRevokePermission", name: "app", key: Uint8Array.of(0, 255), prefix: false },
    { type: "authEnable", tokenKey },
    { type: "authDisable" },
  ];
  for (const command of commands) {
    for (const sent of [command, { ...command, principal: "root" }, { ...command, principal: noUser }]) {
      const decoded = decodeCommand(encodeCommand(sent));
      assert.ok(decoded.ok, JSON.stringify(decoded));
      assert.deepEqual(decoded.command, sent);
    }
  }
  const put: KvCommand = { type: "put", key: bytes("k"), value: bytes("v"), principal: "alice" };
  assert.deepEqual(decodeCommand(encodeCommand(put)), { ok: true, command: put });
});

test("bad names, keys and principals are refused by validate and by decode", () => {
  assert.match(validateCommand({ type: "roleAdd", name: "" }) ?? "", /1 to 128/);
  assert.match(validateCommand({ type: "roleAdd", name: "a b" }) ?? "", /visible ASCII/);
  assert.match(validateCommand({ type: "userAdd", name: "x".repeat(129), password: null }) ?? "", /1 to 128/);
  assert.match(
    validateCommand({
      type: "roleGrantPermission",
      name: "app",
      permission: { access: "read", key: new Uint8Array(0), prefix: false },
    }) ?? "",
    /empty permission key/,
  );
  assert.match(validateCommand({ type: "authEnable", tokenKey: new Uint8Array(5) }) ?? "", /32 bytes/);
  assert.match(validateCommand({ type: "delete", key: bytes("k"), principal: "bad name" }) ?? "", /principal/);
  const checkpoint = encodeCommand({ type: "leaseCheckpoint", checkpoints: [{ id: 1, remainingMs: 5 }] });
  const patched = checkpoint.slice();
  patched[2] = 8;
  assert.equal(decodeCommand(patched).ok, false);
});

test("auth changes apply in log order, each bumping the auth revision; refusals change nothing", () => {
  const store = new KvStore();
  const [noRoot, ...rest] = run(store, [
    { type: "authEnable", tokenKey },
    { type: "userAdd", name: "root", password: hash },
    { type: "userAdd", name: "root", password: hash },
    { type: "userGrantRole", name: "root", role: "nope" },
    { type: "authEnable", tokenKey },
    { type: "userDelete", name: "root" },
    { type: "roleDelete", name: "root" },
    { type: "userRevokeRole", name: "root", role: "root" },
  ]);
  assert.deepEqual(noRoot, { type: "authRefused", reason: "noRootUser", revision: 0 });
  assert.deepEqual(
    rest.map((r) => (r.type === "authChanged" ? r.authRevision : r.type === "authRefused" ? r.reason : r.type)),
    [1, "userExists", "roleNotFound", 2, "rootRequired", "rootRequired", "rootRequired"],
  );
  assert.equal(store.auth.enabled(), true);
  assert.equal(store.auth.revision(), 2);
  assert.deepEqual(store.auth.user("root")?.roles, ["root"]);
  assert.deepEqual(store.auth.roleNames(), ["root"]);
  assert.deepEqual(store.auth.tokenKey(), tokenKey);
  assert.equal(store.auth.user("root")?.passwordRevision, 1);
  run(store, [{ type: "userPassword", name: "root", password: null }, { type: "authDisable" }]);
  assert.equal(store.auth.user("root")?.passwordRevision, 3);
  assert.equal(store.auth.enabled(), false);
  assert.equal(store.auth.tokenKey(), undefined);
  assert.equal(store.revision(), 0, "auth changes are not key-value writes");
});

test("permissions match one key, a prefix, and ranges only when their union covers the whole range", () => {
  const store = securedStore();
  const auth = store.auth;
  assert.ok(auth.allowed("alice", "read", keySpan(bytes("cfg"))));
  assert.ok(!auth.allowed("alice", "write", keySpan(bytes("cfg"))));
  assert.ok(!auth.allowed("alice", "read", keySpan(bytes("cfg2"))));
  assert.ok(auth.allowed("alice", "write", keySpan(bytes("app/x"))));
  assert.ok(!auth.allowed("alice", "write", keySpan(bytes("app"))));
  assert.ok(auth.allowed("alice", "read", rangeSpan({ prefix: bytes("app/sub/") })));
  assert.ok(!auth.allowed("alice", "read", rangeSpan({ prefix: bytes("ap") })));
  assert.ok(auth.allowed("alice", "read", rangeSpan({ from: bytes("app/a"), to: bytes("app/z") })));
  assert.ok(!auth.allowed("alice", "read", rangeSpan({ from: bytes("app/a") })), "unbounded past the prefix");
  // "app/" through "app0" is exactly the prefix; "cfg" and "cfg\0" are the key: two permissions, one range.
  run(store, [
    { type: "roleGrantPermission", name: "app", permission: { access: "read", key: bytes("app0"), prefix: true } },
  ]);
  assert.ok(auth.allowed("alice", "read", rangeSpan({ from: bytes("app/"), to: bytes("app1") })));
  assert.ok(!auth.allowed("alice", "read", rangeSpan({ from: bytes("app/"), to: bytes("app2") })));
  assert.ok(auth.allowed("root", "write", rangeSpan({ prefix: new Uint8Array(0) })), "root may do everything");
  assert.ok(!auth.allowed("nobody", "read", keySpan(bytes("cfg"))));
});

test("writes, txns, leases and compaction are checked against the principal when applied", () => {
  const store = securedStore();
  const denied = (r: KvResult | undefined): void => assert.equal(r?.type, "permissionDenied", JSON.stringify(r));
  const [ok, outside, anonymous, stranger, member] = run(store, [
    { type: "put", key: bytes("app/1"), value: bytes("v"), principal: "alice" },
    { type: "put", key: bytes("cfg"), value: bytes("v"), principal: "alice" },
    { type: "put", key: bytes("app/2"), value: bytes("v"), principal: noUser },
    { type: "delete", key: bytes("app/1"), principal: "mallory" },
    { type: "put", key: bytes("cfg"), value: bytes("by a member") },
  ]);
  assert.equal(ok?.type, "put");
  denied(outside);
  denied(anonymous);
  denied(stranger);
  assert.equal(member?.type, "put", "commands without a principal are never refused");
  const txn = (ops: { compare?: string; get?: string; put?: string; failurePut?: string }): KvCommand => ({
    type: "txn",
    compare: ops.compare === undefined ? [] : [{ key: bytes(ops.compare), modRevision: 0 }],
    success: [
      ...(ops.get === undefined ? [] : [{ type: "get" as const, key: bytes(ops.get) }]),
      ...(ops.put === undefined ? [] : [{ type: "put" as const, key: bytes(ops.put), value: bytes("t") }]),
    ],
    failure: ops.failurePut === undefined ? [] : [{ type: "put", key: bytes(ops.failurePut), value: bytes("f") }],
    principal: "alice",
  });
  const [readCfg, writeCfg, compareSecret, failureBranch] = run(store, [
    txn({ compare: "cfg", get: "cfg", put: "app/t" }),
    txn({ put: "cfg" }),
    txn({ compare: "secret", put: "app/t" }),
    txn({ compare: "cfg", put: "app/t", failurePut: "cfg" }),
  ]);
  assert.equal(readCfg?.type, "txn");
  denied(writeCfg);
  denied(compareSecret);
  denied(failureBranch);
  const [grant, , revokeMine, , revokeOther, compact, addUser] = run(store, [
    { type: "leaseGrant", id: 7, ttlSeconds: 60, principal: "alice" },
    { type: "put", key: bytes("app/leased"), value: bytes("v"), lease: 7, principal: "alice" },
    { type: "leaseRevoke", id: 7, principal: "alice" },
    { type: "put", key: bytes("cfg"), value: bytes("v"), lease: 8 },
    { type: "leaseRevoke", id: 8, principal: "alice" },
    { type: "compact", revision: 1, principal: "alice" },
    { type: "userAdd", name: "eve", password: null, principal: "alice" },
  ]);
  assert.equal(grant?.type, "leaseGranted");
  assert.equal(revokeMine?.type, "leaseRevoked");
  assert.equal(revokeOther?.type, "leaseNotFound", "no such lease: nothing to protect");
  denied(compact);
  denied(addUser);
  run(store, [
    { type: "leaseGrant", id: 9, ttlSeconds: 60 },
    { type: "put", key: bytes("cfg"), value: bytes("x"), lease: 9 },
  ]);
  denied(run(store, [{ type: "leaseRevoke", id: 9, principal: "alice" }])[0]);
  assert.notEqual(store.leaseInfo(9), undefined);
  assert.equal(run(store, [{ type: "compact", revision: 1, principal: "root" }])[0]?.type, "compacted");
});

test("a write from a principal whose role was revoked at an earlier log position writes nothing", () => {
  const store = securedStore();
  const revision = store.revision();
  const session = { clientId: "c1", seq: 1 };
  const [revoked, write, retried] = run(store, [
    { type: "userRevokeRole", name: "alice", role: "app", principal: "root" },
    { type: "put", key: bytes("app/1"), value: bytes("late"), principal: "alice", session },
    { type: "put", key: bytes("app/1"), value: bytes("late"), principal: "alice", session },
  ]);
  assert.equal(revoked?.type, "authChanged");
  assert.deepEqual(write, { type: "permissionDenied", revision });
  assert.deepEqual(retried, { type: "permissionDenied", revision });
  assert.equal(store.get(bytes("app/1")), null);
  assert.equal(store.revision(), revision);
  // Deleting a user or a role the user held works the same way.
  const other = securedStore();
  run(other, [{ type: "roleDelete", name: "app", principal: "root" }]);
  assert.equal(
    run(other, [{ type: "put", key: bytes("app/1"), value: bytes("v"), principal: "alice" }])[0]?.type,
    "permissionDenied",
  );
  assert.deepEqual(other.auth.user("alice")?.roles, []);
});

test("the auth state survives a snapshot byte for byte, and a format 2 snapshot loads with auth off", () => {
  const store = securedStore();
  run(store, [{ type: "put", key: bytes("app/1"), value: bytes("v"), principal: "alice" }]);
  const snapshot = store.snapshot();
  const copy = new KvStore();
  copy.restore(snapshot);
  assert.deepEqual(copy.snapshot(), snapshot);
  assert.equal(copy.auth.enabled(), true);
  assert.deepEqual(copy.auth.tokenKey(), tokenKey);
  assert.deepEqual(copy.auth.user("alice"), store.auth.user("alice"));
  assert.deepEqual(copy.auth.role("app"), store.auth.role("app"));
  assert.equal(
    run(copy, [{ type: "put", key: bytes("cfg"), value: bytes("v"), principal: "alice" }])[0]?.type,
    "permissionDenied",
  );

  // A format 2 snapshot is format 3 without the auth section (17 bytes when auth was never used).
  const plain = new KvStore();
  applyAll(plain, [encodeCommand({ type: "put", key: bytes("k"), value: bytes("v") })]);
  const v3 = plain.snapshot();
  const body = v3.slice(0, v3.length - 4 - 17);
  body[4] = 2;
  const v2 = new Uint8Array(body.length + 4);
  v2.set(body);
  new DataView(v2.buffer).setUint32(body.length, crc32c(body), true);
  const restored = securedStore();
  restored.restore(v2);
  assert.equal(restored.auth.enabled(), false);
  assert.deepEqual(restored.auth.userNames(), []);
  assert.equal(restored.get(bytes("k"))?.value.length, 1);
  assert.deepEqual(restored.snapshot(), v3);
});

test("a corrupt auth section is refused", () => {
  const store = securedStore();
  const snapshot = store.snapshot();
  const truncated = snapshot.slice(0, snapshot.length - 6);
  const resealed = new Uint8Array(truncated.length + 4);
  resealed.set(truncated);
  new DataView(resealed.buffer).setUint32(truncated.length, crc32c(truncated), true);
  assert.throws(() => new KvStore().restore(resealed), /kv snapshot rejected: auth/);
});
