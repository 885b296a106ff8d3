import assert from "node:assert/strict";
import { test } from "node:test";
import { crc32c } from "../util/crc32c.js";
import { logIndex } from "../util/ids.js";
import { Prng } from "../util/prng.js";
import { encodeCommand } from "./command_codec.js";
import { rangeLimitMax } from "./limits.js";
import type { KvResult } from "./results.js";
import type { KvStoreOptions } from "./store.js";
import { KvStore } from "./store.js";
import { applyAll, bytes, putCommand, randomCommand } from "./test_support.test.helper.js";

const limits: KvStoreOptions = { sessionsMax: 3, sessionExpiryEntries: 40 };

/** A seeded history: commands of every kind with sessions, some undecodable entries, and index gaps. */
function history(seed: number, length: number): Array<{ index: number; command: Uint8Array }> {
  const prng = new Prng(seed);
  const entries: Array<{ index: number; command: Uint8Array }> = [];
  let index = 0;
  for (let i = 0; i < length; i++) {
    index += prng.chance(0.1) ? prng.int(2, 30) : 1;
    const command = prng.chance(0.03)
      ? Uint8Array.from({ length: prng.int(0, 8) }, () => prng.int(0, 256))
      : encodeCommand(randomCommand(prng, Math.max(1, i)));
    entries.push({ index, command });
  }
  return entries;
}

function everything(store: KvStore): unknown {
  return {
    kvs: store.range({ prefix: new Uint8Array(0) }, rangeLimitMax),
    revision: store.revision(),
    appliedIndex: store.appliedIndex(),
    sessions: store.sessionCount(),
  };
}

test("two stores fed the same entries give the same results and the same snapshot bytes", () => {
  const a = new KvStore(limits);
  const b = new KvStore(limits);
  const ra: KvResult[] = [];
  const rb: KvResult[] = [];
  for (const { index, command } of history(1, 3000)) {
    ra.push(a.apply(command, logIndex(index)));
    rb.push(b.apply(command.slice(), logIndex(index)));
    if (index % 97 === 0) assert.deepEqual(a.snapshot(), b.snapshot());
  }
  assert.deepEqual(ra, rb);
  assert.deepEqual(a.snapshot(), b.snapshot());
  // The history exercised what it should.
  const types = new Set(ra.map((r) => r.type));
  assert.deepEqual([...types].sort(), [
    "compactRefused",
    "compacted",
    "compareFailed",
    "delete",
    "etcdTxn",
    "invalid",
    "keyNotFound",
    "leaseCheckpointed",
    "leaseExists",
    "leaseGranted",
    "leaseNotFound",
    "leaseRevoked",
    "put",
    "txn",
  ]);
  assert.ok(a.keyCount() > 10 && a.sessionCount() > 0 && a.revision() > 500);
  assert.ok(ra.some((r) => r.type === "invalid" && r.error === "stale sequence"));
});

test("snapshot → restore gives the same state and the same bytes, and the same future", () => {
  const entries = history(2, 2500);
  const original = new KvStore(limits);
  const results: KvResult[] = [];
  const checkpoints: Array<{ i: number; bytes: Uint8Array; state: unknown }> = [];
  for (const [i, { index, command }] of entries.entries()) {
    results.push(original.apply(command, logIndex(index)));
    if (i % 250 === 0 || i === entries.length - 1)
      checkpoints.push({ i, bytes: original.snapshot(), state: everything(original) });
  }
  for (const { i, bytes: bytesAt, state } of checkpoints) {
    const restored = new KvStore(limits);
    restored.restore(bytesAt);
    assert.deepEqual(restored.snapshot(), bytesAt);
    assert.deepEqual(everything(restored), state);
    // It goes on as the original did, sessions included (retries among the next entries hit the restored table).
    for (let j = i + 1; j < Math.min(i + 150, entries.length); j++) {
      assert.deepEqual(
        restored.apply(entries[j]!.command, logIndex(entries[j]!.index)),
        results[j],
        `entry ${j} after restoring at ${i}`,
      );
    }
  }
});

test("an empty store round-trips, and restore replaces whatever was there", () => {
  const empty = new KvStore().snapshot();
  const store = new KvStore();
  applyAll(store, [putCommand("a", "1", { session: { clientId: "c", seq: 1 } })]);
  store.restore(empty);
  assert.deepEqual(store.snapshot(), empty);
  assert.equal(store.get(bytes("a")), null);
  assert.equal(store.appliedIndex(), 0);
  assert.equal(store.sessionCount(), 0);
  assert.deepEqual(applyAll(store, [putCommand("a", "2")]), [{ type: "put", revision: 1 }]);
});

test("restored state does not alias the snapshot's bytes; after restore, apply continues past its index", () => {
  const store = new KvStore();
  applyAll(store, [putCommand("key", "value"), putCommand("key", "value", { session: { clientId: "c", seq: 1 } })]);
  const bytesAt = store.snapshot();
  const restored = new KvStore();
  restored.restore(bytesAt);
  bytesAt.fill(0);
  assert.deepEqual(restored.get(bytes("key"))?.value, bytes("value"));
  assert.throws(() => restored.apply(putCommand("k", "v"), logIndex(2)), /after applied index 2/);
  restored.apply(putCommand("k", "v"), logIndex(3));
});

function sampleSnapshot(): Uint8Array {
  const store = new KvStore(limits);
  for (const { index, command } of history(3, 60)) store.apply(command, logIndex(index));
  assert.ok(store.keyCount() > 0 && store.sessionCount() > 0);
  return store.snapshot();
}

test("a corrupt snapshot is rejected with a clear error, and the state is left as it was", () => {
  const good = sampleSnapshot();
  const store = new KvStore(limits);
  applyAll(store, [putCommand("keep", "me")]);
  const before = store.snapshot();
  const rejected = (bytes: Uint8Array, pattern: RegExp): void => {
    assert.throws(
      () => store.restore(bytes),
      (error: unknown) =>
        error instanceof Error && /^kv snapshot rejected: /.test(error.message) && pattern.test(error.message),
    );
    assert.deepEqual(store.snapshot(), before);
  };
  for (let length = 0; length < good.length; length++) rejected(good.subarray(0, length), /./);
  for (let at = 0; at < good.length; at++) {
    const flipped = good.slice();
    flipped[at]! ^= 1 << (at % 8);
    rejected(flipped, at < 5 ? /magic|version/ : /checksum/);
  }
  const longer = new Uint8Array(good.length + 1);
  longer.set(good);
  rejected(longer, /checksum/);
});

/** Recomputes the trailing checksum, so a test reaches the structural checks behind it. */
function resealed(bytes: Uint8Array): Uint8Array {
  const copy = bytes.slice();
  new DataView(copy.buffer).setUint32(copy.length - 4, crc32c(copy, { end: copy.length - 4 }), true);
  return copy;
}

test("a snapshot from members with other session limits is rejected (they would dedupe differently)", () => {
  const good = sampleSnapshot();
  assert.throws(() => new KvStore({ ...limits, sessionsMax: 1 }).restore(good), /over sessionsMax 1/);
  assert.throws(() => new KvStore({ ...limits, sessionExpiryEntries: 1 }).restore(good), /should have expired/);
  new KvStore(limits).restore(good);
});

test("fuzz: resealed mutations are rejected by the structural checks or decode to exactly themselves", () => {
  const good = sampleSnapshot();
  const prng = new Prng(77);
  let accepted = 0;
  for (let i = 0; i < 3000; i++) {
    const mutated = good.slice();
    for (let flips = prng.int(1, 3); flips > 0; flips--) {
      mutated[prng.int(5, mutated.length - 4)] = prng.pick([0, 1, 2, 0x7f, 0xff, prng.int(0, 256)]);
    }
    const input = resealed(mutated);
    const store = new KvStore(limits);
    try {
      store.restore(input);
    } catch (error) {
      assert.ok(error instanceof Error && error.message.startsWith("kv snapshot rejected: "), String(error));
      continue;
    }
    accepted++;
    assert.deepEqual(store.snapshot(), input, "an accepted snapshot is the canonical encoding of its state");
  }
  assert.ok(accepted > 0 && accepted < 3000, `accepted ${accepted}`);
});

test("a snapshot encoded a piece at a time while writes go on holds the state of when it began", () => {
  for (const seed of [3, 4, 5]) {
    const entries = history(seed, 3000);
    const store = new KvStore(limits);
    const prng = new Prng(seed);
    let k = 0;
    for (; k < 1000; k++) store.apply(entries[k]!.command, logIndex(entries[k]!.index));
    const expected = store.snapshot();
    const progress = store.beginSnapshot();
    const pieces: Uint8Array[] = [];
    for (let done = false; !done;) {
      const piece = progress.step(prng.int(1, 400));
      pieces.push(piece.bytes);
      done = piece.done;
      for (let n = prng.int(0, 5); n > 0 && k < entries.length; n--, k++)
        store.apply(entries[k]!.command, logIndex(entries[k]!.index));
    }
    assert.ok(pieces.length > 10, `seed ${seed}: ${pieces.length} pieces`);
    assert.ok(k > 1020, `seed ${seed}: writes went on meanwhile`);
    assert.deepEqual(Buffer.concat(pieces), Buffer.from(expected), `seed ${seed}`);
    // The store itself moved on, and its next snapshot shows that.
    const after = new KvStore(limits);
    after.restore(store.snapshot());
    assert.equal(after.appliedIndex(), entries[k - 1]!.index);
  }
});

test("beginning a snapshot again abandons the first: the second holds the later state", () => {
  const store = new KvStore(limits);
  store.apply(putCommand("a", "1"), logIndex(1));
  const first = store.beginSnapshot();
  first.step(1);
  store.apply(putCommand("a", "2"), logIndex(2));
  const expected = store.snapshot();
  const second = store.beginSnapshot();
  store.apply(putCommand("a", "3"), logIndex(3));
  assert.deepEqual(second.step(Infinity), { bytes: expected, done: true });
});

test("each piece of a snapshot is about the size asked for, and none is kept by the store", () => {
  const store = new KvStore(limits);
  for (let k = 1; k <= 200; k++) store.apply(putCommand(`key${k}`, "v".repeat(100)), logIndex(k));
  const expected = store.snapshot();
  const progress = store.beginSnapshot();
  const pieces: Uint8Array[] = [];
  for (let done = false; !done;) {
    const piece = progress.step(4096);
    pieces.push(piece.bytes);
    done = piece.done;
  }
  assert.ok(pieces.length > 2, `${pieces.length} pieces`);
  // A piece ends after the key-value that reached the size asked for; the last also holds the tables.
  for (const piece of pieces.slice(0, -1)) assert.ok(piece.length >= 4096 && piece.length < 8192, `${piece.length}`);
  assert.equal(new Set(pieces.map((piece) => piece.buffer)).size, pieces.length, "each piece its own buffer");
  assert.deepEqual(Buffer.concat(pieces), Buffer.from(expected));
});
