import type { Reader, Writer } from "./binary.js";
import type { EtcdResponse } from "./etcd_commands.js";
import { txnOpsMax } from "./limits.js";
import type { KeyValue } from "./key_value.js";
import { keyValueSize, readKeyValue, writeKeyValue } from "./key_value.js";

/*
 * Binary form of an etcd txn's responses in the session table (results.ts, result kind 6), little-endian:
 *   responses    u16 count, count × response
 *   response     u8 kind (1 range, 2 put, 3 deleteRange, 4 txn), then
 *     range        u8 more, u64 count, kvs
 *     put          u8 present, [keyValue]
 *     deleteRange  u64 deleted, kvs
 *     txn          u8 succeeded, responses
 *   kvs          u32 count, count × keyValue (results.ts)
 */

const kinds = { range: 1, put: 2, deleteRange: 3, txn: 4 } as const;

export function etcdResponsesSize(responses: readonly EtcdResponse[]): number {
  let size = 2;
  for (const response of responses) size += 1 + responseSize(response);
  return size;
}

function responseSize(response: EtcdResponse): number {
  switch (response.type) {
    case "range":
      return 9 + kvsSize(response.kvs);
    case "put":
      return 1 + (response.prevKv === null ? 0 : keyValueSize(response.prevKv));
    case "deleteRange":
      return 8 + kvsSize(response.prevKvs);
    case "txn":
      return 1 + etcdResponsesSize(response.responses);
  }
}

function kvsSize(kvs: readonly KeyValue[]): number {
  return kvs.reduce((size, kv) => size + keyValueSize(kv), 4);
}

export function writeEtcdResponses(w: Writer, responses: readonly EtcdResponse[]): void {
  w.u16(responses.length);
  for (const response of responses) {
    w.u8(kinds[response.type]);
    switch (response.type) {
      case "range":
        w.u8(response.more ? 1 : 0);
        w.u64(response.count);
        writeKvs(w, response.kvs);
        break;
      case "put":
        w.u8(response.prevKv === null ? 0 : 1);
        if (response.prevKv !== null) writeKeyValue(w, response.prevKv);
        break;
      case "deleteRange":
        w.u64(response.deleted);
        writeKvs(w, response.prevKvs);
        break;
      case "txn":
        w.u8(response.succeeded ? 1 : 0);
        writeEtcdResponses(w, response.responses);
        break;
    }
  }
}

function writeKvs(w: Writer, kvs: readonly KeyValue[]): void {
  w.u32(kvs.length);
  for (const kv of kvs) writeKeyValue(w, kv);
}

/** Responses remembered by a store at `revision`, or why the bytes are not ones. */
export function readEtcdResponses(r: Reader, revision: number, depth = 0): EtcdResponse[] | string {
  const count = r.u16();
  if (count === undefined) return "truncated etcd responses";
  if (count > txnOpsMax || depth > txnOpsMax) return `etcd responses: ${count} at depth ${depth}`;
  const responses: EtcdResponse[] = [];
  for (let i = 0; i < count; i++) {
    const response = readResponse(r, revision, depth);
    if (typeof response === "string") return `etcd response ${i}: ${response}`;
    responses.push(response);
  }
  return responses;
}

function readResponse(r: Reader, revision: number, depth: number): EtcdResponse | string {
  const kind = r.u8();
  const flag = kind === kinds.deleteRange ? 0 : r.u8();
  if (kind === undefined || flag === undefined) return "truncated";
  if (flag > 1) return `flag byte ${flag} (0 or 1)`;
  switch (kind) {
    case kinds.range: {
      const count = r.u64();
      const kvs = readKvs(r, revision);
      if (count === undefined || typeof kvs === "string") return "truncated range response";
      return { type: "range", kvs, more: flag === 1, count };
    }
    case kinds.put: {
      if (flag === 0) return { type: "put", prevKv: null };
      const prevKv = readKeyValue(r, revision);
      return typeof prevKv === "string" ? prevKv : { type: "put", prevKv };
    }
    case kinds.deleteRange: {
      const deleted = r.u64();
      const prevKvs = readKvs(r, revision);
      if (deleted === undefined || typeof prevKvs === "string") return "truncated deleteRange response";
      return { type: "deleteRange", deleted, prevKvs };
    }
    case kinds.txn: {
      const responses = readEtcdResponses(r, revision, depth + 1);
      return typeof responses === "string" ? responses : { type: "txn", succeeded: flag === 1, responses };
    }
    default:
      return `unknown etcd response kind ${kind}`;
  }
}

function readKvs(r: Reader, revision: number): KeyValue[] | string {
  const count = r.u32();
  if (count === undefined) return "truncated";
  const kvs: KeyValue[] = [];
  for (let i = 0; i < count; i++) {
    const kv = readKeyValue(r, revision);
    if (typeof kv === "string") return kv;
    kvs.push(kv);
  }
  return kvs;
}
