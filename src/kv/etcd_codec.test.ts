import assert from "node:assert/strict";
import { test } from "node:test";
import { Prng } from "../util/prng.js";
import { Reader, Writer } from "./binary.js";
import type { KvCommand } from "./commands.js";
import { decodeCommand, encodeCommand } from "./command_codec.js";
import { cmp, del, get, nested, put, txn } from "./etcd_test_support.test.helper.js";
import { readResult, resultSize, writeResult } from "./results.js";
import { KvStore } from "./store.js";
import { applyAll } from "./test_support.test.helper.js";
import { validEtcdTxn } from "./test_support.test.helper.js";

const examples: KvCommand[] = [
  { type: "etcdTxn", ...txn([], [put("k", "v")]) },
  { type: "etcdTxn", ...txn([], [del("a", "\0", true)]), session: { clientId: "c", seq: 3 }, principal: "alice" },
  {
    type: "etcdTxn",
    ...txn(
      [cmp("a", "value", "notEqual", "x", "b"), cmp("b", "lease", "greater", Number.MAX_SAFE_INTEGER)],
      [
        put("a", "", { ignoreValue: true, ignoreLease: true, prevKv: true }),
        get("\0", "\0", {
          limit: 5,
          sortOrder: "descend",
          sortTarget: "mod",
          keysOnly: true,
          countOnly: true,
          minModRevision: 1,
          maxModRevision: 2,
          minCreateRevision: 3,
          maxCreateRevision: 4,
        }),
        nested([cmp("c", "create", "less", 9)], [put("c", "1", { lease: 12 })], [del("c")]),
      ],
      [get("z")],
    ),
  },
];

test("etcd txns survive encode → decode unchanged; every truncation is refused", () => {
  const prng = new Prng(7);
  const commands = [
    ...examples,
    ...Array.from({ length: 400 }, (): KvCommand => ({ type: "etcdTxn", ...validEtcdTxn(prng, 20) })),
  ];
  for (const command of commands) {
    const bytes = encodeCommand(command);
    assert.deepEqual(decodeCommand(bytes), { ok: true, command });
    for (let cut = 0; cut < bytes.length; cut++)
      assert.equal(decodeCommand(bytes.subarray(0, cut)).ok, false, `cut at ${cut}`);
  }
});

test("invalid etcd txns are refused by decode too: duplicates, ignore flags with a value, unknown codes", () => {
  const valid = encodeCommand({ type: "etcdTxn", ...txn([], [put("a", "", { ignoreValue: true })]) });
  // Header (3), counts; the put's flags byte follows its kind byte. Setting ignoreValue on a put with a value:
  const withValue = encodeCommand({ type: "etcdTxn", ...txn([], [put("a", "v")]) });
  const flagsAt = 3 + 2 + 2 + 1;
  const patched = withValue.slice();
  patched[flagsAt] = 2;
  assert.deepEqual(decodeCommand(patched), { ok: false, error: "etcdTxn: etcdserver: value is provided" });
  const unknown = valid.slice();
  unknown[flagsAt] = 8;
  assert.equal(decodeCommand(unknown).ok, false);
  const duplicate = new Writer(64);
  assert.ok(duplicate);
  const dup = encodeCommand({ type: "etcdTxn", ...txn([], [put("a"), put("b")]) });
  // Rewrite the second key "b" to "a": the same bytes the duplicate would have.
  dup[dup.lastIndexOf("b".charCodeAt(0))] = "a".charCodeAt(0);
  assert.deepEqual(decodeCommand(dup), { ok: false, error: "etcdTxn: etcdserver: duplicate key given in txn request" });
  const badTarget = encodeCommand({ type: "etcdTxn", ...txn([cmp("a", "version", "equal", 1)], []) });
  badTarget[5] = 6;
  assert.equal(decodeCommand(badTarget).ok, false);
});

test("etcd txn results round-trip through the session table encoding, and every truncation is refused", () => {
  const prng = new Prng(11);
  const store = new KvStore();
  applyAll(store, [encodeCommand({ type: "leaseGrant", id: 1, ttlSeconds: 10 })]);
  let checked = 0;
  for (let i = 0; i < 500; i++) {
    const [result] = applyAll(store, [encodeCommand({ type: "etcdTxn", ...validEtcdTxn(prng, store.revision()) })]);
    assert.ok(
      result!.type === "etcdTxn" || result!.type === "keyNotFound" || result!.type === "leaseNotFound",
      result!.type,
    );
    const executed = result;
    const w = new Writer(resultSize(executed));
    writeResult(w, executed);
    const bytes = w.finish();
    assert.deepEqual(readResult(new Reader(bytes), store.revision()), executed);
    for (let cut = 0; cut < bytes.length; cut += prng.int(1, 4)) {
      const r = new Reader(bytes.subarray(0, cut));
      const read = readResult(r, store.revision());
      assert.ok(typeof read === "string", `cut at ${cut} of ${bytes.length}`);
    }
    checked++;
  }
  assert.equal(checked, 500);
});
