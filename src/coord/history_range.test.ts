import assert from "node:assert/strict";
import { test } from "node:test";
import type { KvCommand, RangeRequest, StoredKv } from "../kv/index.js";
import { encodeCommand, KvStore } from "../kv/index.js";
import { binaryBytesForTest as bin, binaryStringForTest as str } from "./history_range.test.helper.js";
import { logIndex } from "../util/ids.js";
import { Prng } from "../util/prng.js";
import { rangeAt } from "./history_range.js";
import { WatchHistory } from "./watch_history.js";

const zero = Uint8Array.of(0);

/** A store, the history its listener feeds, and a brute-force model: the whole state after every revision. */
function harness(): {
  store: KvStore;
  history: WatchHistory;
  states: Map<string, StoredKv>[];
  apply: (command: KvCommand) => void;
} {
  const store = new KvStore();
  const history = new WatchHistory(0);
  store.listen({
    revision: (revision, events) => history.append(revision, events),
    compacted: (revision) => history.compact(revision),
  });
  const states: Map<string, StoredKv>[] = [new Map<string, StoredKv>()];
  const apply = (command: KvCommand): void => {
    store.apply(encodeCommand(command), logIndex(store.appliedIndex() + 1));
    if (store.revision() === states.length - 1) return;
    const state = new Map<string, StoredKv>();
    for (const kv of store.rangeEtcd({ key: zero, rangeEnd: zero }).kvs)
      state.set(str(kv.key), {
        value: str(kv.value),
        createRevision: kv.createRevision,
        modRevision: kv.modRevision,
        version: kv.version,
        lease: kv.lease,
      });
    states.push(state);
  };
  return { store, history, states, apply };
}

test("a past revision is read as it was; below the compaction or the history: compacted; above the store: future", () => {
  const { store, history, apply } = harness();
  apply({ type: "put", key: bin("a"), value: bin("1") }); // 1
  apply({ type: "put", key: bin("b"), value: bin("2") }); // 2
  apply({ type: "put", key: bin("a"), value: bin("3") }); // 3
  apply({ type: "delete", key: bin("b") }); // 4
  const all = { key: zero, rangeEnd: zero };
  const at = (revision: number): unknown => {
    const answer = rangeAt(store, history, { ...all, revision });
    return answer.type === "range"
      ? answer.answer.kvs.map((kv) => `${str(kv.key)}=${str(kv.value)}@${kv.modRevision}/${kv.version}`)
      : answer.type;
  };
  assert.deepEqual(at(1), ["a=1@1/1"]);
  assert.deepEqual(at(2), ["a=1@1/1", "b=2@2/1"]);
  assert.deepEqual(at(3), ["a=3@3/2", "b=2@2/1"]);
  assert.deepEqual(at(4), ["a=3@3/2"]);
  assert.deepEqual(at(0), ["a=3@3/2"]);
  assert.deepEqual(rangeAt(store, history, { ...all, revision: 5 }), { type: "future", revision: 4 });
  apply({ type: "compact", revision: 3 });
  assert.deepEqual(at(2), "compacted");
  assert.deepEqual(at(3), ["a=3@3/2", "b=2@2/1"], "the compaction revision itself is still readable, as in etcd");
  // A member whose own history is shorter than the cluster's compaction refuses what it cannot rebuild.
  apply({ type: "put", key: bin("c"), value: bin("5") }); // 5
  history.compact(5);
  assert.deepEqual(at(4), ["a=3@3/2"], "undoing revision 5 still gives revision 4");
  assert.deepEqual(rangeAt(store, history, { ...all, revision: 3 }), {
    type: "compacted",
    compactRevision: 4,
    revision: 5,
  });
});

test("randomized: reads at every held revision agree with the state the model kept for that revision", () => {
  const prng = new Prng(4242);
  const { store, history, states, apply } = harness();
  const alphabet = ["\u0000", "a", "b", "\u00ff"];
  const key = (): Uint8Array => bin(Array.from({ length: prng.int(1, 3) }, () => alphabet[prng.int(0, 4)]!).join(""));
  let checks = 0;
  for (let op = 0; op < 4000; op++) {
    const roll = prng.int(0, 100);
    if (roll < 55) apply({ type: "put", key: key(), value: bin(String(prng.int(0, 9))) });
    else if (roll < 75) apply({ type: "delete", key: key() });
    else if (roll < 85)
      apply({
        type: "txn",
        compare: [],
        success: [
          { type: "put", key: bin("a"), value: bin("t") },
          { type: "delete", key: bin("b") },
        ],
        failure: [],
      });
    else if (roll < 87) apply({ type: "compact", revision: prng.int(0, store.revision() + 1) });
    else if (roll < 88) history.compact(prng.int(history.firstRevision(), store.revision() + 1));
    const current = store.revision();
    const held = Math.max(store.compactRevision(), history.firstRevision() - 1);
    const revision = prng.chance(0.8) ? prng.int(held, current + 1) : prng.int(0, current + 3);
    const rangeEnd = [undefined, zero, key()][prng.int(0, 3)];
    const request: RangeRequest = {
      key: key(),
      ...(rangeEnd === undefined ? {} : { rangeEnd }),
      revision,
      limit: prng.int(0, 3),
    };
    const answer = rangeAt(store, history, request);
    const oldest = Math.max(store.compactRevision(), history.firstRevision() - 1);
    if (revision > current) assert.equal(answer.type, "future");
    else if (revision !== 0 && revision < oldest && revision !== current)
      assert.equal(answer.type, "compacted", `op ${op} rev ${revision}`);
    else {
      assert.equal(answer.type, "range");
      if (answer.type !== "range") continue;
      const state = states[revision === 0 ? current : revision]!;
      const from = str(request.key);
      const end = request.rangeEnd === undefined ? undefined : str(request.rangeEnd);
      const inRange = [...state.keys()]
        .filter((k) => (end === undefined ? k === from : end === "\u0000" ? k >= from : k >= from && k < end))
        .sort();
      const limit = request.limit ?? 0;
      const expected = (limit > 0 ? inRange.slice(0, limit) : inRange).map((k) => ({ k, ...state.get(k)! }));
      assert.deepEqual(
        answer.answer.kvs.map((kv) => ({
          k: str(kv.key),
          value: str(kv.value),
          createRevision: kv.createRevision,
          modRevision: kv.modRevision,
          version: kv.version,
          lease: kv.lease,
        })),
        expected,
        `op ${op}: revision ${revision}`,
      );
      assert.equal(answer.answer.count, inRange.length);
      assert.equal(answer.answer.more, limit > 0 && inRange.length > limit);
      checks++;
    }
  }
  assert.ok(checks > 2000, `only ${checks} reads were checked`);
  assert.ok(store.compactRevision() > 0 && store.revision() > 2000);
});
