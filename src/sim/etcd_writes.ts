import type { EtcdOp, SessionCommand } from "../kv/index.js";
import { utf8 } from "../util/bytes.js";

/*
 * The workload's writes in etcd's form (one etcdTxn command each), with the same meaning as raftkv's
 * put, delete and compare-and-set, so the same linearizability model checks them while every member
 * applies etcd's txn code: its results (prevKv, deleted key-values) must agree across members too.
 */

const none = new Uint8Array(0);

function put(key: string, value: string): SessionCommand {
  return {
    type: "etcdTxn",
    compare: [],
    success: [putOp(key, value)],
    failure: [],
  };
}

function putOp(key: string, value: string): EtcdOp {
  return {
    type: "put",
    key: utf8(key),
    value: utf8(value),
    lease: 0,
    prevKv: true,
    ignoreValue: false,
    ignoreLease: false,
  };
}

function remove(key: string): SessionCommand {
  return {
    type: "etcdTxn",
    compare: [],
    success: [{ type: "deleteRange", key: utf8(key), rangeEnd: none, prevKv: true }],
    failure: [],
  };
}

/**
 * Put `value` if the key holds `expected` (null: if it is absent, as version 0). With a value compare
 * an absent key fails, as raftkv's own compare does; the failure branch reads the key, so that a
 * failed compare also runs a Range.
 */
function compareAndSet(key: string, expected: string | null, value: string): SessionCommand {
  const compare =
    expected === null
      ? { key: utf8(key), rangeEnd: none, target: "version" as const, result: "equal" as const, number: 0 }
      : { key: utf8(key), rangeEnd: none, target: "value" as const, result: "equal" as const, value: utf8(expected) };
  return {
    type: "etcdTxn",
    compare: [compare],
    success: [putOp(key, value)],
    failure: [
      {
        type: "range",
        key: utf8(key),
        rangeEnd: none,
        limit: 0,
        sortOrder: "none",
        sortTarget: "key",
        keysOnly: false,
        countOnly: false,
        minModRevision: 0,
        maxModRevision: 0,
        minCreateRevision: 0,
        maxCreateRevision: 0,
      },
    ],
  };
}

export const etcdWrites = { put, remove, compareAndSet };
