import assert from "node:assert/strict";
import { test } from "node:test";
import { fromUtf8 } from "../util/bytes.js";
import { crc32c } from "../util/crc32c.js";
import type { PasswordHash } from "./auth_commands.js";
import type { KvCommand } from "./commands.js";
import { noUser } from "./commands.js";
import { decodeCommand, encodeCommand } from "./command_codec.js";
import { validateCommand } from "./command_checks.js";
import { checkEtcdTxn } from "./etcd_checks.js";
import type { EtcdResponse, EtcdTxn } from "./etcd_commands.js";
import { cmp, del, get, nested, put, txn } from "./etcd_test_support.test.helper.js";
import { txnOpsMax } from "./limits.js";
import type { KvResult } from "./results.js";
import { KvStore } from "./store.js";
import { applyAll, bytes } from "./test_support.test.helper.js";

function run(store: KvStore, ...txns: EtcdTxn[]): KvResult[] {
  return applyAll(
    store,
    txns.map((t) => encodeCommand({ type: "etcdTxn", ...t })),
  );
}

const one = (store: KvStore, t: EtcdTxn): KvResult => run(store, t)[0]!;

/** The responses of an etcdTxn result, as short strings: key=value@mod/version per key-value. */
/** Test output, compared with deepEqual. */
function brief(result: KvResult): { responses: unknown } & Record<string, unknown> {
  if (result.type !== "etcdTxn") return { ...result, responses: undefined };
  const kvs = (
    list: readonly { key: Uint8Array; value: Uint8Array; modRevision: number; version: number; lease: number }[],
  ) =>
    list.map(
      (kv) =>
        `${fromUtf8(kv.key)}=${fromUtf8(kv.value)}@${kv.modRevision}/${kv.version}${kv.lease ? `+${kv.lease}` : ""}`,
    );
  const show = (r: EtcdResponse): unknown => {
    switch (r.type) {
      case "range":
        return { range: kvs(r.kvs), more: r.more, count: r.count };
      case "put":
        return { put: r.prevKv === null ? null : kvs([r.prevKv])[0] };
      case "deleteRange":
        return { deleted: r.deleted, prev: kvs(r.prevKvs) };
      case "txn":
        return { txn: r.succeeded, responses: r.responses.map(show) };
    }
  };
  return { succeeded: result.succeeded, revision: result.revision, responses: result.responses.map(show) };
}

function abc(): KvStore {
  const store = new KvStore();
  run(store, txn([], [put("a", "1"), put("b", "2"), put("c", "3")])); // all at revision 1
  return store;
}

test("put: prevKv, ignoreValue keeps the value, ignoreLease keeps the lease, both need the key", () => {
  const store = abc();
  applyAll(store, [encodeCommand({ type: "leaseGrant", id: 7, ttlSeconds: 60 })]);
  assert.deepEqual(brief(one(store, txn([], [put("a", "x", { lease: 7, prevKv: true })]))), {
    succeeded: true,
    revision: 2,
    responses: [{ put: "a=1@1/1" }],
  });
  assert.deepEqual(
    brief(one(store, txn([], [put("a", "", { ignoreValue: true, ignoreLease: true, prevKv: true })]))).responses,
    [{ put: "a=x@2/2+7" }],
  );
  assert.deepEqual(brief(one(store, txn([], [put("a", "y", { ignoreLease: true }), get("a")]))).responses, [
    { put: null },
    { range: ["a=y@4/4+7"], more: false, count: 1 },
  ]);
  assert.deepEqual(one(store, txn([], [put("a", "z")])), {
    type: "etcdTxn",
    succeeded: true,
    revision: 5,
    responses: [{ type: "put", prevKv: null }],
  });
  assert.equal(store.get(bytes("a"))?.lease, 0, "a put without a lease detaches the key");
  assert.deepEqual(one(store, txn([], [put("nope", "", { ignoreValue: true })])), { type: "keyNotFound", revision: 5 });
  assert.deepEqual(one(store, txn([], [put("nope", "v", { ignoreLease: true })])), {
    type: "keyNotFound",
    revision: 5,
  });
  assert.deepEqual(one(store, txn([], [put("b", "v"), put("c", "v", { lease: 9 })])), {
    type: "leaseNotFound",
    id: 9,
    revision: 5,
  });
  assert.equal(fromUtf8(store.get(bytes("b"))!.value), "2", "a refused txn writes nothing");
  // Validation before proposing, with etcd's errors.
  assert.deepEqual(checkEtcdTxn(txn([], [put("a", "v", { ignoreValue: true })])), { type: "valueProvided" });
  assert.deepEqual(checkEtcdTxn(txn([], [put("a", "", { ignoreLease: true, lease: 3 })])), { type: "leaseProvided" });
  assert.equal(
    validateCommand({ type: "etcdTxn", ...txn([], [put("a", "v", { ignoreValue: true })]) }),
    "etcdTxn: etcdserver: value is provided",
  );
});

test("deleteRange: etcd's key forms, prevKvs, one revision for all, none when nothing was deleted", () => {
  const store = abc();
  run(store, txn([], [put("d", "4")])); // 2
  assert.deepEqual(brief(one(store, txn([], [del("zz", "\0")]))), {
    succeeded: true,
    revision: 2,
    responses: [{ deleted: 0, prev: [] }],
  });
  assert.deepEqual(brief(one(store, txn([], [del("b", "d", true)]))), {
    succeeded: true,
    revision: 3,
    responses: [{ deleted: 2, prev: ["b=2@1/1", "c=3@1/1"] }],
  });
  assert.deepEqual(brief(one(store, txn([], [del("a")]))).responses, [{ deleted: 1, prev: [] }]);
  assert.deepEqual(brief(one(store, txn([], [del("\0", "\0", true)]))), {
    succeeded: true,
    revision: 5,
    responses: [{ deleted: 1, prev: ["d=4@2/1"] }],
  });
  assert.equal(store.keyCount(), 0);
});

test("compares: every target and result, ranges hold for every key, absent keys compare as zeros but fail on value", () => {
  const store = abc();
  run(store, txn([], [put("b", "22")])); // b: version 2, mod 2, create 1
  const holds = (...compares: ReturnType<typeof cmp>[]): boolean => {
    const result = one(store, txn(compares, []));
    assert.equal(result.type, "etcdTxn");
    return result.type === "etcdTxn" && result.succeeded;
  };
  assert.ok(
    holds(
      cmp("b", "version", "equal", 2),
      cmp("b", "create", "equal", 1),
      cmp("b", "mod", "equal", 2),
      cmp("b", "lease", "equal", 0),
    ),
  );
  assert.ok(holds(cmp("b", "version", "greater", 1), cmp("b", "mod", "less", 3), cmp("b", "create", "notEqual", 2)));
  assert.ok(!holds(cmp("b", "version", "greater", 2)));
  assert.ok(holds(cmp("b", "value", "equal", "22"), cmp("b", "value", "greater", "2"), cmp("b", "value", "less", "3")));
  assert.ok(holds(cmp("a", "value", "notEqual", "x")));
  // Absent: version/create/mod/lease are 0; a value compare fails whatever the result.
  assert.ok(holds(cmp("zz", "version", "equal", 0), cmp("zz", "create", "less", 1), cmp("zz", "mod", "equal", 0)));
  assert.ok(!holds(cmp("zz", "value", "notEqual", "x")));
  assert.ok(!holds(cmp("zz", "value", "equal", "")));
  // Over a range: every key must satisfy it; an empty range compares zeros.
  assert.ok(holds(cmp("a", "create", "equal", 1, "d")));
  assert.ok(!holds(cmp("a", "version", "equal", 1, "d")), "b's version is 2");
  assert.ok(holds(cmp("a", "version", "greater", 0, "\0")));
  assert.ok(!holds(cmp("a", "value", "less", "3", "d")), "c's value is not below 3");
  assert.ok(holds(cmp("x", "mod", "equal", 0, "z")));
  assert.ok(!holds(cmp("x", "value", "equal", "", "z")));
  assert.equal(store.revision(), 2, "compares alone write nothing");
});

test("txn: branches, one revision, reads see earlier writes, nested txns decide on the state before the txn", () => {
  const store = abc();
  const result = one(
    store,
    txn(
      [cmp("a", "value", "equal", "1")],
      [
        put("a", "2"),
        get("a", "\0", { limit: 2 }),
        // Decided before the put above: a's value was 1 then, so the nested txn succeeds.
        nested([cmp("a", "value", "equal", "1")], [put("n", "yes")], [put("n", "no")]),
        del("c"),
        get("\0", "\0", { countOnly: true }),
      ],
      [put("f", "failed")],
    ),
  );
  assert.deepEqual(brief(result), {
    succeeded: true,
    revision: 2,
    responses: [
      { put: null },
      { range: ["a=2@2/2", "b=2@1/1"], more: true, count: 3 },
      { txn: true, responses: [{ put: null }] },
      { deleted: 1, prev: [] },
      { range: [], more: false, count: 3 },
    ],
  });
  assert.equal(fromUtf8(store.get(bytes("n"))!.value), "yes");
  assert.deepEqual(brief(one(store, txn([cmp("a", "value", "equal", "1")], [put("s", "1")], [get("a")]))), {
    succeeded: false,
    revision: 2,
    responses: [{ range: ["a=2@2/2"], more: false, count: 1 }],
  });
  // A nested txn's missing lease fails the whole txn.
  assert.deepEqual(one(store, txn([], [put("x", "1"), nested([], [put("y", "1", { lease: 4 })])])), {
    type: "leaseNotFound",
    id: 4,
    revision: 2,
  });
  assert.equal(store.get(bytes("x")), null);
});

test("etcd's duplicate-key rule: no key put twice or put inside a deleted range, nested txns included", () => {
  const dup = { type: "duplicateKey" };
  assert.deepEqual(checkEtcdTxn(txn([], [put("a"), put("a")])), dup);
  assert.deepEqual(checkEtcdTxn(txn([], [], [put("a"), del("a")])), dup);
  assert.deepEqual(checkEtcdTxn(txn([], [del("a", "c"), put("b")])), dup);
  assert.deepEqual(checkEtcdTxn(txn([], [put("b"), nested([], [put("b")])])), dup);
  assert.deepEqual(checkEtcdTxn(txn([], [del("a", "c"), nested([], [], [put("b")])])), dup);
  assert.deepEqual(
    checkEtcdTxn(txn([], [put("b"), nested([], [del("b")])])),
    dup,
    "a nested delete covers the outer put",
  );
  assert.deepEqual(checkEtcdTxn(txn([], [nested([], [put("b")]), nested([], [put("b")])])), dup);
  // Allowed: a put in a success and in a failure branch (one runs), deletes that overlap, reads.
  assert.equal(checkEtcdTxn(txn([], [put("a"), get("a"), del("b", "d"), del("c")], [put("a")])), undefined);
  assert.equal(checkEtcdTxn(txn([], [nested([], [put("b")], [put("b")])])), undefined);
  assert.equal(checkEtcdTxn(txn([], [del("c", "d"), put("d")])), undefined, "the range end is excluded");
  // As in etcd's check, a range end of one zero byte is the literal interval [key, "\0"): it covers no key.
  assert.equal(checkEtcdTxn(txn([], [del("a", "\0"), put("b")])), undefined);
  const store = abc();
  assert.deepEqual(brief(one(store, txn([], [put("b", "new"), del("a", "\0", true)]))).responses, [
    { put: null },
    { deleted: 3, prev: ["a=1@1/1", "b=new@2/2", "c=3@1/1"] },
  ]);
  assert.equal(store.keyCount(), 0);
});

test("etcd's op limit: per list, and a nested txn gets what its parent's largest list leaves", () => {
  const many = (n: number): ReturnType<typeof get>[] => Array.from({ length: n }, (_, i) => get(`k${i}`));
  assert.equal(checkEtcdTxn(txn([], many(txnOpsMax), many(txnOpsMax))), undefined);
  assert.deepEqual(checkEtcdTxn(txn([], many(txnOpsMax + 1))), { type: "tooManyOps" });
  assert.deepEqual(
    checkEtcdTxn(
      txn(
        Array.from({ length: txnOpsMax + 1 }, () => cmp("a", "version", "equal", 0)),
        [],
      ),
    ),
    { type: "tooManyOps" },
  );
  const parent = [...many(99), nested([], many(28))];
  assert.equal(checkEtcdTxn(txn([], parent)), undefined);
  assert.deepEqual(checkEtcdTxn(txn([], [...many(99), nested([], many(29))])), { type: "tooManyOps" });
  // Depth is bounded by the same rule: each level takes at least one op from the next.
  let deep: EtcdTxn = txn([], [get("x")]);
  for (let i = 0; i < txnOpsMax; i++) deep = txn([], [{ type: "txn", ...deep }]);
  assert.deepEqual(checkEtcdTxn(deep), { type: "tooManyOps" });
});

test("permissions: read for compares, ranges and prevKv; write for puts and deleted ranges; nested txns too", () => {
  const hash: PasswordHash = {
    logN: 14,
    r: 8,
    p: 1,
    salt: new Uint8Array(16).fill(7),
    hash: new Uint8Array(32).fill(9),
  };
  const store = new KvStore();
  const setup: KvCommand[] = [
    { type: "userAdd", name: "root", password: hash, principal: noUser },
    { type: "userAdd", name: "alice", password: hash, principal: noUser },
    { type: "roleAdd", name: "app" },
    { type: "roleGrantPermission", name: "app", permission: { access: "readwrite", key: bytes("app/"), prefix: true } },
    { type: "roleGrantPermission", name: "app", permission: { access: "write", key: bytes("w/"), prefix: true } },
    { type: "roleGrantPermission", name: "app", permission: { access: "read", key: bytes("r/"), prefix: true } },
    { type: "userGrantRole", name: "alice", role: "app" },
    { type: "authEnable", tokenKey: new Uint8Array(32).fill(3), principal: noUser },
  ];
  applyAll(
    store,
    setup.map((c) => encodeCommand(c)),
  );
  const allowed = (t: EtcdTxn): boolean => store.permitted({ type: "etcdTxn", ...t, principal: "alice" });
  assert.ok(
    allowed(
      txn(
        [cmp("r/x", "version", "equal", 0), cmp("app/", "mod", "equal", 0, "app0")],
        [get("r/", "r0"), put("w/a", "1"), del("w/", "w0")],
      ),
    ),
  );
  assert.ok(!allowed(txn([cmp("w/x", "version", "equal", 0)], [])), "a compare reads");
  assert.ok(!allowed(txn([], [get("w/a")])));
  assert.ok(!allowed(txn([], [put("r/a")])));
  assert.ok(!allowed(txn([], [put("w/a", "", { prevKv: true })])), "prevKv reads");
  assert.ok(allowed(txn([], [put("app/a", "", { prevKv: true }), del("app/", "app0", true)])));
  assert.ok(!allowed(txn([], [del("w/a", "", true)])));
  assert.ok(!allowed(txn([], [del("w/", "\0")])), "from w/ on reaches past the prefix");
  assert.ok(!allowed(txn([], [], [nested([], [], [put("r/a")])])), "every branch, nested ones too");
  // A put naming a lease needs write on the keys already attached to it (etcd's checkLeasePuts).
  applyAll(store, [
    encodeCommand({ type: "leaseGrant", id: 5, ttlSeconds: 60 }),
    encodeCommand({ type: "leaseGrant", id: 6, ttlSeconds: 60 }),
    encodeCommand({ type: "etcdTxn", ...txn([], [put("r/x", "1", { lease: 5 }), put("w/x", "1", { lease: 6 })]) }),
  ]);
  assert.ok(!allowed(txn([], [put("w/a", "1", { lease: 5 })])), "r/x shares lease 5");
  assert.ok(allowed(txn([], [put("w/a", "1", { lease: 6 })])));
  const denied = applyAll(store, [encodeCommand({ type: "etcdTxn", ...txn([], [put("r/a")]), principal: "alice" })]);
  assert.equal(denied[0]!.type, "permissionDenied");
});

test("an etcd txn with a session is applied once; its result survives the session table in a snapshot", () => {
  const store = abc();
  const command = encodeCommand({
    type: "etcdTxn",
    ...txn(
      [cmp("a", "version", "greater", 0, "\0")],
      [put("a", "2", { prevKv: true }), del("b", "", true), get("a", "\0"), nested([], [get("c")])],
    ),
    session: { clientId: "c1", seq: 1 },
  });
  const [first, retry] = applyAll(store, [command, command]);
  assert.deepEqual(retry, first);
  assert.equal(store.revision(), 2);
  const restored = new KvStore();
  restored.restore(store.snapshot());
  assert.deepEqual(applyAll(restored, [command])[0], first);
  assert.deepEqual(
    restored.snapshot(),
    store.snapshot().length === restored.snapshot().length ? restored.snapshot() : store.snapshot(),
  );
  const keyNotFound = encodeCommand({
    type: "etcdTxn",
    ...txn([], [put("zz", "", { ignoreValue: true })]),
    session: { clientId: "c2", seq: 1 },
  });
  const [missing] = applyAll(store, [keyNotFound]);
  const again = new KvStore();
  again.restore(store.snapshot());
  assert.deepEqual(applyAll(again, [keyNotFound])[0], missing);
  assert.ok(decodeCommand(command).ok);
});

test("a format 3 snapshot (before etcd txns) loads the same state", () => {
  const store = abc();
  const v4 = store.snapshot();
  assert.equal(v4[4], 4);
  const body = v4.slice(0, v4.length - 4);
  body[4] = 3;
  const v3 = new Uint8Array(v4.length);
  v3.set(body);
  new DataView(v3.buffer).setUint32(body.length, crc32c(body), true);
  const restored = new KvStore();
  restored.restore(v3);
  assert.deepEqual(restored.snapshot(), v4);
});
