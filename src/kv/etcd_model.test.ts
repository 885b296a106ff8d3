import assert from "node:assert/strict";
import { test } from "node:test";
import { Prng } from "../util/prng.js";
import { binaryString } from "./binary.js";
import { encodeCommand } from "./command_codec.js";
import type { EtcdCompare, EtcdOp, EtcdResponse, EtcdTxn } from "./etcd_commands.js";
import type { KvResult } from "./results.js";
import { KvStore } from "./store.js";
import { applyAll, validEtcdTxn } from "./test_support.test.helper.js";

/*
 * etcd's txn rules written the plain way, over a Map copied per txn: each compare filters every key,
 * each op scans every key. The store's results (and state) must match this model's for random txns.
 */

interface Kv {
  value: string;
  create: number;
  mod: number;
  version: number;
  lease: number;
}

type State = Map<string, Kv>;

function inRange(key: string, from: Uint8Array, end: Uint8Array): boolean {
  const k = key;
  const f = binaryString(from);
  if (end.length === 0) return k === f;
  if (end.length === 1 && end[0] === 0) return k >= f;
  return k >= f && k < binaryString(end);
}

function keysIn(state: State, from: Uint8Array, end: Uint8Array): string[] {
  return [...state.keys()].filter((k) => inRange(k, from, end)).sort();
}

function compareHolds(state: State, c: EtcdCompare): boolean {
  const keys = keysIn(state, c.key, c.rangeEnd);
  const one = (kv: Kv | undefined): boolean => {
    let a: string | number;
    let b: string | number;
    if (c.target === "value") {
      if (kv === undefined) return false;
      a = kv.value;
      b = binaryString(c.value);
    } else {
      const field = { version: "version", create: "create", mod: "mod", lease: "lease" } as const;
      a = kv === undefined ? 0 : kv[field[c.target]];
      b = c.number;
    }
    if (c.result === "equal") return a === b;
    if (c.result === "notEqual") return a !== b;
    if (c.result === "greater") return a > b;
    return a < b;
  };
  return keys.length === 0 ? one(undefined) : keys.every((k) => one(state.get(k)));
}

function show(key: string, kv: Kv): string {
  return `${key}=${kv.value}@${kv.create}/${kv.mod}/${kv.version}+${kv.lease}`;
}

function modelRange(state: State, op: Extract<EtcdOp, { type: "range" }>): unknown {
  const all = keysIn(state, op.key, op.rangeEnd).map((k) => ({ k, kv: state.get(k)! }));
  if (op.countOnly) return { range: [], more: false, count: all.length };
  let kept = all.filter(
    ({ kv }) =>
      (!op.minModRevision || kv.mod >= op.minModRevision) &&
      (!op.maxModRevision || kv.mod <= op.maxModRevision) &&
      (!op.minCreateRevision || kv.create >= op.minCreateRevision) &&
      (!op.maxCreateRevision || kv.create <= op.maxCreateRevision),
  );
  const target = op.sortTarget;
  const order = op.sortOrder === "none" && target !== "key" ? "ascend" : op.sortOrder;
  const field = (e: { k: string; kv: Kv }): string | number =>
    target === "key"
      ? e.k
      : target === "value"
        ? e.kv.value
        : target === "version"
          ? e.kv.version
          : target === "create"
            ? e.kv.create
            : e.kv.mod;
  if (order !== "none") {
    const sign = order === "descend" ? -1 : 1;
    kept = [...kept].sort((x, y) => (field(x) < field(y) ? -sign : field(x) > field(y) ? sign : x.k < y.k ? -1 : 1));
  }
  const more = op.limit > 0 && kept.length > op.limit;
  if (more) kept = kept.slice(0, op.limit);
  return {
    range: kept.map(({ k, kv }) => show(k, op.keysOnly ? { ...kv, value: "" } : kv)),
    more,
    count: all.length,
  };
}

/** Model result, shaped like the store's (key-values as strings). */
function modelTxn(state: State, leases: Set<number>, txn: EtcdTxn, revision: number): unknown {
  const before = new Map(state);
  // Decide every branch on the state before the txn.
  const decide = (t: EtcdTxn): boolean => t.compare.every((c) => compareHolds(before, c));
  const refusal = (t: EtcdTxn): string | undefined => {
    for (const op of decide(t) ? t.success : t.failure) {
      if (op.type === "txn") {
        const r = refusal(op);
        if (r !== undefined) return r;
      } else if (op.type === "put") {
        if ((op.ignoreValue || op.ignoreLease) && !before.has(binaryString(op.key))) return "keyNotFound";
        if (op.lease !== 0 && !leases.has(op.lease)) return `leaseNotFound ${op.lease}`;
      }
    }
    return undefined;
  };
  const refused = refusal(txn);
  if (refused !== undefined) return refused;
  let wrote = false;
  const run = (t: EtcdTxn): unknown => {
    const succeeded = decide(t);
    return {
      succeeded,
      responses: (succeeded ? t.success : t.failure).map((op: EtcdOp): unknown => {
        switch (op.type) {
          case "range":
            return modelRange(state, op);
          case "put": {
            const key = binaryString(op.key);
            const prev = state.get(key);
            state.set(key, {
              value: op.ignoreValue ? (prev?.value ?? "") : binaryString(op.value),
              lease: op.ignoreLease ? (prev?.lease ?? 0) : op.lease,
              create: prev?.create ?? revision,
              mod: revision,
              version: (prev?.version ?? 0) + 1,
            });
            wrote = true;
            return { put: op.prevKv && prev !== undefined ? show(key, prev) : null };
          }
          case "deleteRange": {
            const keys = keysIn(state, op.key, op.rangeEnd);
            const prev = keys.map((k) => show(k, state.get(k)!));
            for (const k of keys) state.delete(k);
            if (keys.length > 0) wrote = true;
            return { deleted: keys.length, prev: op.prevKv ? prev : [] };
          }
          case "txn":
            return { txn: run(op) };
        }
      }),
    };
  };
  const result = run(txn);
  return { ...(result as object), wrote };
}

function storeView(result: KvResult, revisionBefore: number): unknown {
  if (result.type === "keyNotFound") return "keyNotFound";
  if (result.type === "leaseNotFound") return `leaseNotFound ${result.id}`;
  assert.equal(result.type, "etcdTxn");
  if (result.type !== "etcdTxn") return undefined;
  const show = (kv: {
    key: Uint8Array;
    value: Uint8Array;
    createRevision: number;
    modRevision: number;
    version: number;
    lease: number;
  }): string =>
    `${binaryString(kv.key)}=${binaryString(kv.value)}@${kv.createRevision}/${kv.modRevision}/${kv.version}+${kv.lease}`;
  const view = (r: EtcdResponse): unknown => {
    switch (r.type) {
      case "range":
        return { range: r.kvs.map(show), more: r.more, count: r.count };
      case "put":
        return { put: r.prevKv === null ? null : show(r.prevKv) };
      case "deleteRange":
        return { deleted: r.deleted, prev: r.prevKvs.map(show) };
      case "txn":
        return { txn: { succeeded: r.succeeded, responses: r.responses.map(view) } };
    }
  };
  return {
    succeeded: result.succeeded,
    responses: result.responses.map(view),
    wrote: result.revision > revisionBefore,
  };
}

test("randomized: etcd txns on the store match a brute-force model of etcd's rules", () => {
  const prng = new Prng(1717);
  const store = new KvStore();
  const state: State = new Map();
  const leases = new Set<number>();
  let succeeded = 0;
  for (let i = 0; i < 3000; i++) {
    if (prng.chance(0.03)) {
      const id = prng.int(1, 4);
      if (leases.has(id)) {
        applyAll(store, [encodeCommand({ type: "leaseRevoke", id })]);
        leases.delete(id);
        const revoked = [...state].filter(([, kv]) => kv.lease === id).map(([k]) => k);
        for (const k of revoked) state.delete(k);
      } else {
        applyAll(store, [encodeCommand({ type: "leaseGrant", id, ttlSeconds: 60 })]);
        leases.add(id);
      }
      continue;
    }
    const txn = validEtcdTxn(prng, store.revision());
    const before = store.revision();
    const [result] = applyAll(store, [encodeCommand({ type: "etcdTxn", ...txn })]);
    const expected = modelTxn(state, leases, txn, before + 1);
    assert.deepEqual(storeView(result!, before), expected, `txn ${i}: ${JSON.stringify(txn)}`);
    if (typeof expected !== "string" && (expected as { succeeded: boolean }).succeeded) succeeded++;
    // A refused txn changed nothing in the model either: it was decided before any op ran.
  }
  assert.equal(store.keyCount(), state.size);
  assert.ok(succeeded > 500, `${succeeded} txns took their success branch`);
});
