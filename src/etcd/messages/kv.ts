/** etcdserverpb's KV service: message shapes and their compact descriptors (docs/api.md). Generated from etcd's .proto files; keep the two in step. */
import type { KeyValue } from "./records.js";

export const RangeRequestSortOrder = { None: 0, Ascend: 1, Descend: 2 } as const;
export const RangeRequestSortTarget = { Key: 0, Version: 1, Create: 2, Mod: 3, Value: 4 } as const;
export const CompareCompareResult = { Equal: 0, Greater: 1, Less: 2, NotEqual: 3 } as const;
export const CompareCompareTarget = { Version: 0, Create: 1, Mod: 2, Value: 3, Lease: 4 } as const;

export interface ResponseHeader {
  clusterId: number;
  memberId: number;
  revision: number;
  raftTerm: number;
}
export interface RangeRequest {
  key: Uint8Array;
  rangeEnd: Uint8Array;
  limit: number;
  revision: number;
  sortOrder: number;
  sortTarget: number;
  serializable: boolean;
  keysOnly: boolean;
  countOnly: boolean;
  minModRevision: number;
  maxModRevision: number;
  minCreateRevision: number;
  maxCreateRevision: number;
}
export interface RangeResponse {
  header?: ResponseHeader;
  kvs: KeyValue[];
  more: boolean;
  count: number;
}
export interface PutRequest {
  key: Uint8Array;
  value: Uint8Array;
  lease: number;
  prevKv: boolean;
  ignoreValue: boolean;
  ignoreLease: boolean;
}
export interface PutResponse {
  header?: ResponseHeader;
  prevKv?: KeyValue;
}
export interface DeleteRangeRequest {
  key: Uint8Array;
  rangeEnd: Uint8Array;
  prevKv: boolean;
}
export interface DeleteRangeResponse {
  header?: ResponseHeader;
  deleted: number;
  prevKvs: KeyValue[];
}
export interface RequestOp {
  requestRange?: RangeRequest;
  requestPut?: PutRequest;
  requestDeleteRange?: DeleteRangeRequest;
  requestTxn?: TxnRequest;
}
export interface ResponseOp {
  responseRange?: RangeResponse;
  responsePut?: PutResponse;
  responseDeleteRange?: DeleteRangeResponse;
  responseTxn?: TxnResponse;
}
export interface Compare {
  result: number;
  target: number;
  key: Uint8Array;
  version?: number;
  createRevision?: number;
  modRevision?: number;
  value?: Uint8Array;
  lease?: number;
  rangeEnd: Uint8Array;
}
export interface TxnRequest {
  compare: Compare[];
  success: RequestOp[];
  failure: RequestOp[];
}
export interface TxnResponse {
  header?: ResponseHeader;
  succeeded: boolean;
  responses: ResponseOp[];
}
export interface CompactionRequest {
  revision: number;
  physical: boolean;
}
export interface CompactionResponse {
  header?: ResponseHeader;
}

export const kvDescriptors: Readonly<Record<string, string>> = {
  ResponseHeader: "1 clusterId id64; 2 memberId id64; 3 revision int64; 4 raftTerm uint64",
  RangeRequest:
    "1 key bytes; 2 rangeEnd bytes; 3 limit int64; 4 revision int64; 5 sortOrder enum; 6 sortTarget enum; 7 serializable bool; 8 keysOnly bool; 9 countOnly bool; 10 minModRevision int64; 11 maxModRevision int64; 12 minCreateRevision int64; 13 maxCreateRevision int64",
  RangeResponse: "1 header ResponseHeader; 2 kvs []KeyValue; 3 more bool; 4 count int64",
  PutRequest: "1 key bytes; 2 value bytes; 3 lease int64; 4 prevKv bool; 5 ignoreValue bool; 6 ignoreLease bool",
  PutResponse: "1 header ResponseHeader; 2 prevKv KeyValue",
  DeleteRangeRequest: "1 key bytes; 2 rangeEnd bytes; 3 prevKv bool",
  DeleteRangeResponse: "1 header ResponseHeader; 2 deleted int64; 3 prevKvs []KeyValue",
  RequestOp:
    "1 requestRange ?RangeRequest; 2 requestPut ?PutRequest; 3 requestDeleteRange ?DeleteRangeRequest; 4 requestTxn ?TxnRequest",
  ResponseOp:
    "1 responseRange ?RangeResponse; 2 responsePut ?PutResponse; 3 responseDeleteRange ?DeleteRangeResponse; 4 responseTxn ?TxnResponse",
  Compare:
    "1 result enum; 2 target enum; 3 key bytes; 4 version ?int64; 5 createRevision ?int64; 6 modRevision ?int64; 7 value ?bytes; 8 lease ?int64; 64 rangeEnd bytes",
  TxnRequest: "1 compare []Compare; 2 success []RequestOp; 3 failure []RequestOp",
  TxnResponse: "1 header ResponseHeader; 2 succeeded bool; 3 responses []ResponseOp",
  CompactionRequest: "1 revision int64; 2 physical bool",
  CompactionResponse: "1 header ResponseHeader",
};
