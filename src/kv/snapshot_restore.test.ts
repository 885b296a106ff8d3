import assert from "node:assert/strict";
import { test } from "node:test";
import { crc32c } from "../util/crc32c.js";
import { logIndex } from "../util/ids.js";
import { Prng } from "../util/prng.js";
import { encodeCommand } from "./command_codec.js";
import { rangeLimitMax } from "./limits.js";
import type { KvStoreOptions } from "./store.js";
import { KvStore } from "./store.js";
import { applyAll, bytes, putCommand, randomCommand } from "./test_support.test.helper.js";

const limits: KvStoreOptions = { sessionsMax: 3, sessionExpiryEntries: 40 };

/** A store after `length` seeded commands of every kind (sessions, leases, txns). */
function storeAfter(seed: number, length: number): KvStore {
  const prng = new Prng(seed);
  const store = new KvStore(limits);
  for (let i = 1; i <= length; i++) store.apply(encodeCommand(randomCommand(prng, i)), logIndex(i));
  return store;
}

function everything(store: KvStore): unknown {
  return {
    kvs: store.range({ prefix: new Uint8Array(0) }, rangeLimitMax),
    revision: store.revision(),
    compactRevision: store.compactRevision(),
    appliedIndex: store.appliedIndex(),
    sessions: store.sessionCount(),
    leases: store.leases(),
  };
}

/** Restores `snapshot` into `store` in steps of `bytesMax`; returns how many steps it took. */
function restoreInSteps(store: KvStore, snapshot: Uint8Array, bytesMax: number): number {
  const progress = store.beginRestore(snapshot);
  let steps = 1;
  while (!progress.step(bytesMax)) steps++;
  return steps;
}

test("a snapshot restored a piece at a time gives the state a whole restore gives, whatever the pieces' size", () => {
  for (const seed of [1, 2, 3]) {
    const original = storeAfter(seed, 1500);
    const snapshot = original.snapshot();
    const whole = new KvStore(limits);
    whole.restore(snapshot);
    for (const bytesMax of [1, 7, 100, 4096, Infinity]) {
      const store = new KvStore(limits);
      const steps = restoreInSteps(store, snapshot, bytesMax);
      assert.deepEqual(everything(store), everything(whole), `seed ${seed}, steps of ${bytesMax} bytes`);
      assert.deepEqual(store.snapshot(), snapshot);
      if (bytesMax === 1) assert.ok(steps > snapshot.length, `${steps} steps for ${snapshot.length} bytes`);
      if (bytesMax === Infinity) assert.equal(steps, 1);
    }
  }
});

test("until the last step the store answers reads from the state it had, and a finished restore stays finished", () => {
  const snapshot = storeAfter(4, 800).snapshot();
  const store = new KvStore(limits);
  applyAll(store, [putCommand("before", "restore")]);
  const before = everything(store);
  const progress = store.beginRestore(snapshot);
  let steps = 0;
  while (!progress.step(256)) {
    steps++;
    assert.deepEqual(everything(store), before);
    assert.deepEqual(store.get(bytes("before"))?.value, bytes("restore"));
  }
  assert.ok(steps > 10);
  const restored = everything(store);
  assert.notDeepEqual(restored, before);
  assert.equal(progress.step(256), true);
  assert.deepEqual(everything(store), restored);
});

/** Recomputes the trailing checksum, so a test reaches the structural checks behind it. */
function resealed(bytes: Uint8Array): Uint8Array {
  const copy = bytes.slice();
  new DataView(copy.buffer).setUint32(copy.length - 4, crc32c(copy, { end: copy.length - 4 }), true);
  return copy;
}

test("a bad snapshot gets the same error whatever the pieces' size, and the state is left as it was", () => {
  const good = storeAfter(5, 300).snapshot();
  const prng = new Prng(9);
  const errorOf = (snapshot: Uint8Array, bytesMax: number): string => {
    const store = new KvStore(limits);
    applyAll(store, [putCommand("keep", "me")]);
    const before = store.snapshot();
    try {
      restoreInSteps(store, snapshot, bytesMax);
    } catch (error) {
      assert.deepEqual(store.snapshot(), before);
      return String(error);
    }
    return "accepted";
  };
  const truncated = good.subarray(0, good.length - 9);
  const flipped = good.slice();
  flipped[good.length >> 1]! ^= 0x10;
  const bad = [truncated, flipped, new Uint8Array(10)];
  for (let i = 0; i < 200; i++) {
    const mutated = good.slice();
    mutated[prng.int(5, mutated.length - 4)] = prng.pick([0, 1, 0x7f, 0xff]);
    bad.push(resealed(mutated));
  }
  let rejected = 0;
  for (const snapshot of bad) {
    const whole = errorOf(snapshot, Infinity);
    if (whole !== "accepted") rejected++;
    for (const bytesMax of [1, 33, 1000]) assert.equal(errorOf(snapshot, bytesMax), whole);
  }
  assert.ok(rejected >= 3, `${rejected} rejected`);
});
