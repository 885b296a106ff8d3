import type { Reader, Writer } from "./binary.js";
import { binaryBytes, binaryString } from "./binary.js";
import type { KeyValue } from "./key_value.js";
import { readKeyValueView } from "./key_value.js";

/**
 * A key's state as the store holds it, under its key's binary string. The value is a binary string
 * too (one code unit per byte): V8 keeps such a string flat in its heap at one byte per byte, where a
 * Uint8Array per value costs about four times the bytes of a 128-byte value in object and
 * backing-store overhead. A million 128-byte values took 957 MB of RSS as arrays and 314 MB as strings.
 */
export interface StoredKv {
  readonly value: string;
  readonly createRevision: number;
  readonly modRevision: number;
  readonly version: number;
  /** 0: attached to no lease. */
  readonly lease: number;
}

/** The public form, with fresh byte arrays the caller may keep. */
export function toKeyValue(key: string, kv: StoredKv): KeyValue {
  return {
    key: binaryBytes(key),
    value: binaryBytes(kv.value),
    createRevision: kv.createRevision,
    modRevision: kv.modRevision,
    version: kv.version,
    lease: kv.lease,
  };
}

/** Bytes writeStoredKv takes: the same encoding as results.ts's keyValue. */
export function storedKvSize(key: string, kv: StoredKv): number {
  return 2 + key.length + 4 + kv.value.length + 32;
}

export function writeStoredKv(w: Writer, key: string, kv: StoredKv): void {
  w.u16(key.length);
  w.binary(key);
  w.u32(kv.value.length);
  w.binary(kv.value);
  w.u64(kv.createRevision);
  w.u64(kv.modRevision);
  w.u64(kv.version);
  w.u64(kv.lease);
}

/** A key-value consistent with a store at `revision` (see readKeyValue), or why not. */
export function readStoredKv(r: Reader, revision: number): { key: string; kv: StoredKv } | string {
  const read = readKeyValueView(r, revision);
  if (typeof read === "string") return read;
  const { createRevision, modRevision, version, lease } = read;
  return {
    key: binaryString(read.key),
    kv: { value: binaryString(read.value), createRevision, modRevision, version, lease },
  };
}
