import type { Reader, Writer } from "./binary.js";
import { bytes16Size, bytes32Size } from "./binary.js";
import { keyBytesMax, valueBytesMax } from "./limits.js";

/**
 * A key's current state, as etcd reports it. Revisions are store revisions: `createRevision` is the
 * write that created the key (since it was last absent), `modRevision` the last write to it, so
 * 1 ≤ createRevision ≤ modRevision ≤ the store's revision; `version` counts the writes since creation
 * (1 after the first put), at most one per revision. The byte arrays belong to the caller (the store keeps its own copy).
 */
export interface KeyValue {
  readonly key: Uint8Array;
  readonly value: Uint8Array;
  readonly createRevision: number;
  readonly modRevision: number;
  readonly version: number;
  /** The lease the key is attached to, 0 for none. */
  readonly lease: number;
}

export function keyValueSize(kv: KeyValue): number {
  return bytes16Size(kv.key) + bytes32Size(kv.value) + 32;
}

export function writeKeyValue(w: Writer, kv: KeyValue): void {
  w.bytes16(kv.key);
  w.bytes32(kv.value);
  w.u64(kv.createRevision);
  w.u64(kv.modRevision);
  w.u64(kv.version);
  w.u64(kv.lease);
}

/**
 * A key-value whose fields are consistent with a store at `revision`, or why not. The byte arrays are
 * copied, so the result does not keep the (possibly large) input alive.
 */
export function readKeyValue(r: Reader, revision: number): KeyValue | string {
  const kv = readKeyValueView(r, revision);
  if (typeof kv === "string") return kv;
  return { ...kv, key: kv.key.slice(), value: kv.value.slice() };
}

/** As readKeyValue, but the byte arrays are views into the reader's input. */
export function readKeyValueView(r: Reader, revision: number): KeyValue | string {
  const key = r.bytes16();
  const value = r.bytes32();
  const createRevision = r.u64();
  const modRevision = r.u64();
  const version = r.u64();
  const lease = r.u64();
  if (key === undefined || value === undefined) return "truncated key-value";
  if (createRevision === undefined || modRevision === undefined || version === undefined || lease === undefined) {
    return "key-value revisions truncated or above 2^53 - 1";
  }
  if (key.length === 0 || key.length > keyBytesMax) return `key-value with a key of ${key.length} bytes`;
  if (value.length > valueBytesMax) return `key-value with a value of ${value.length} bytes`;
  if (!(createRevision >= 1 && createRevision <= modRevision && modRevision <= revision)) {
    return `key-value revisions out of order (create ${createRevision}, mod ${modRevision}, store ${revision})`;
  }
  // Each write since creation had its own revision in [createRevision, modRevision].
  if (version < 1 || version > modRevision - createRevision + 1) {
    return `key-value version ${version} impossible between revisions ${createRevision} and ${modRevision}`;
  }
  return { key, value, createRevision, modRevision, version, lease };
}
