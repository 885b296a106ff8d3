import assert from "node:assert/strict";
import { test } from "node:test";
import { fromUtf8 } from "../util/bytes.js";
import { encodeCommand } from "./command_codec.js";
import type { KvEvent } from "./events.js";
import { KvStore } from "./store.js";
import { applyAll, bytes, deleteCommand, putCommand } from "./test_support.test.helper.js";

const grant = (id: number, ttlSeconds = 10): Uint8Array => encodeCommand({ type: "leaseGrant", id, ttlSeconds });
const revoke = (id: number): Uint8Array => encodeCommand({ type: "leaseRevoke", id });
const leasedPut = (key: string, value: string, lease: number): Uint8Array =>
  encodeCommand({ type: "put", key: bytes(key), value: bytes(value), lease });
const compact = (revision: number): Uint8Array => encodeCommand({ type: "compact", revision });

/** A store whose changes are recorded as `revision: type key=value` lines. */
function watched(): { store: KvStore; seen: string[] } {
  const store = new KvStore();
  const seen: string[] = [];
  const show = (e: KvEvent): string => `${e.type} ${fromUtf8(bytes(e.key))}=${e.kv.value}`;
  store.listen({
    revision: (revision, events) => seen.push(`${revision}: ${events.map(show).join(", ")}`),
    compacted: (revision) => seen.push(`compacted ${revision}`),
    leaseGranted: (id, ttl) => seen.push(`granted ${id} ttl ${ttl}`),
    leaseRevoked: (id) => seen.push(`revoked ${id}`),
  });
  return { store, seen };
}

test("a lease's keys are deleted at one revision when it is revoked, and watchers see them as one change", () => {
  const { store, seen } = watched();
  const results = applyAll(store, [
    grant(7),
    leasedPut("a", "1", 7),
    leasedPut("b", "2", 7),
    putCommand("c", "3"),
    revoke(7),
  ]);
  assert.deepEqual(results[0], { type: "leaseGranted", id: 7, ttlSeconds: 10, revision: 0 });
  assert.deepEqual(results[4], { type: "leaseRevoked", id: 7, deleted: 2, revision: 4 });
  assert.equal(store.get(bytes("a")), null);
  assert.equal(fromUtf8(store.get(bytes("c"))!.value), "3");
  assert.deepEqual(seen, [
    "granted 7 ttl 10",
    "1: put a=1",
    "2: put b=2",
    "3: put c=3",
    // Lease news comes while the entry applies; a revision's events once it is done.
    "revoked 7",
    "4: delete a=, delete b=",
  ]);
  assert.equal(store.lease(7), undefined);
});

test("a put naming a missing lease writes nothing, nor does a txn whose chosen branch names one", () => {
  const store = new KvStore();
  const [put] = applyAll(store, [leasedPut("a", "1", 3)]);
  assert.deepEqual(put, { type: "leaseNotFound", id: 3, revision: 0 });
  const txn = encodeCommand({
    type: "txn",
    compare: [],
    success: [
      { type: "put", key: bytes("x"), value: bytes("1") },
      { type: "put", key: bytes("y"), value: bytes("2"), lease: 3 },
    ],
    failure: [],
  });
  assert.deepEqual(applyAll(store, [txn]), [{ type: "leaseNotFound", id: 3, revision: 0 }]);
  assert.equal(store.revision(), 0);
  assert.equal(store.keyCount(), 0);
  assert.deepEqual(applyAll(store, [revoke(3)]), [{ type: "leaseNotFound", id: 3, revision: 0 }]);
});

test("a key moves between leases with its puts: a put without a lease detaches it, a delete too", () => {
  const store = new KvStore();
  applyAll(store, [grant(1), grant(2), leasedPut("k", "1", 1), leasedPut("k", "2", 2)]);
  assert.deepEqual(store.lease(1)?.keys, []);
  assert.deepEqual(store.lease(2)?.keys.map(fromUtf8), ["k"]);
  assert.equal(store.get(bytes("k"))!.lease, 2);
  applyAll(store, [putCommand("k", "3")]);
  assert.deepEqual(store.lease(2)?.keys, []);
  applyAll(store, [leasedPut("k", "4", 1), deleteCommand("k"), revoke(1)]);
  assert.equal(store.revision(), 5, "revoking a lease with no keys left writes nothing");
});

test("a grant of an id in use is refused, and checkpoints record what is left until the whole TTL clears them", () => {
  const store = new KvStore();
  const results = applyAll(store, [
    grant(5, 60),
    grant(5, 30),
    encodeCommand({ type: "leaseCheckpoint", checkpoints: [{ id: 5, remainingMs: 12_000 }] }),
  ]);
  assert.deepEqual(results[1], { type: "leaseExists", id: 5, revision: 0 });
  assert.deepEqual(store.leases(), [{ id: 5, ttlSeconds: 60, remainingMs: 12_000 }]);
  applyAll(store, [encodeCommand({ type: "leaseCheckpoint", checkpoints: [{ id: 5, remainingMs: 60_000 }] })]);
  assert.deepEqual(store.leases(), [{ id: 5, ttlSeconds: 60, remainingMs: undefined }]);
});

test("compaction moves forward only, never past the store's revision", () => {
  const { store, seen } = watched();
  applyAll(store, [putCommand("a", "1"), putCommand("a", "2"), putCommand("a", "3")]);
  assert.deepEqual(applyAll(store, [compact(4), compact(2), compact(2), compact(1)]), [
    { type: "compactRefused", reason: "future", compactRevision: 0, revision: 3 },
    { type: "compacted", compactRevision: 2, revision: 3 },
    { type: "compactRefused", reason: "compacted", compactRevision: 2, revision: 3 },
    { type: "compactRefused", reason: "compacted", compactRevision: 2, revision: 3 },
  ]);
  assert.equal(store.compactRevision(), 2);
  assert.equal(seen.at(-1), "compacted 2");
});

test("leases, attachments, checkpoints and the compaction revision survive a snapshot, and the restore is announced", () => {
  const store = new KvStore();
  applyAll(store, [
    grant(9, 100),
    leasedPut("b", "x", 9),
    leasedPut("a", "y", 9),
    encodeCommand({ type: "leaseCheckpoint", checkpoints: [{ id: 9, remainingMs: 5 }] }),
    compact(1),
  ]);
  const { store: copy, seen } = watched();
  copy.restore(store.snapshot());
  assert.deepEqual(copy.leases(), [{ id: 9, ttlSeconds: 100, remainingMs: 5 }]);
  assert.deepEqual(copy.lease(9)?.keys.map(fromUtf8), ["a", "b"]);
  assert.equal(copy.compactRevision(), 1);
  assert.deepEqual(copy.snapshot(), store.snapshot());
  applyAll(copy, [revoke(9)]);
  assert.deepEqual(seen, ["revoked 9", "3: delete a=, delete b="]);
});
