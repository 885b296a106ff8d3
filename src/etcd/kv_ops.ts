/**
 * etcd's KV messages as raftkv's etcd txn command and back: the gRPC request fields become src/kv's
 * EtcdTxn (every field given, etcd's defaults), its responses become etcd's ResponseOps. Anything a
 * client can send that raftkv cannot take is a GrpcError here, before anything is proposed.
 */
import { GrpcError, Status } from "../grpc/status.js";
import type { EtcdCompare, EtcdOp, EtcdResponse, EtcdTxn, RangeRequest as KvRangeRequest } from "../kv/index.js";
import { etcdError } from "./errors.js";
import type {
  Compare,
  DeleteRangeRequest,
  PutRequest,
  RangeRequest,
  RequestOp,
  ResponseHeader,
  ResponseOp,
  TxnRequest,
} from "./messages/kv.js";

const sortOrders = ["none", "ascend", "descend"] as const;
const sortTargets = ["key", "version", "create", "mod", "value"] as const;
const compareResults = ["equal", "greater", "less", "notEqual"] as const;
const compareTargets = ["version", "create", "mod", "value", "lease"] as const;

function invalid(message: string): GrpcError {
  return new GrpcError(Status.INVALID_ARGUMENT, message);
}

function notNegative(value: number, what: string): number {
  if (value < 0) throw invalid(`${what} must not be negative`);
  return value;
}

function enumValue<T>(table: readonly T[], value: number, what: string): T {
  const found = table[value];
  if (found === undefined) throw invalid(`unknown ${what} ${value}`);
  return found;
}

/** A Range request in src/kv's form, every field given (its revision included: the caller decides where it is read). */
export function rangeOf(request: RangeRequest): Required<KvRangeRequest> {
  if (request.key.length === 0) throw etcdError("emptyKey");
  return {
    key: request.key,
    rangeEnd: request.rangeEnd,
    limit: notNegative(request.limit, "limit"),
    revision: notNegative(request.revision, "revision"),
    sortOrder: enumValue(sortOrders, request.sortOrder, "sort order"),
    sortTarget: enumValue(sortTargets, request.sortTarget, "sort target"),
    keysOnly: request.keysOnly,
    countOnly: request.countOnly,
    minModRevision: notNegative(request.minModRevision, "min_mod_revision"),
    maxModRevision: notNegative(request.maxModRevision, "max_mod_revision"),
    minCreateRevision: notNegative(request.minCreateRevision, "min_create_revision"),
    maxCreateRevision: notNegative(request.maxCreateRevision, "max_create_revision"),
  };
}

export function putOp(request: PutRequest): EtcdOp {
  if (request.key.length === 0) throw etcdError("emptyKey");
  return {
    type: "put",
    key: request.key,
    value: request.value,
    lease: notNegative(request.lease, "lease"),
    prevKv: request.prevKv,
    ignoreValue: request.ignoreValue,
    ignoreLease: request.ignoreLease,
  };
}

export function deleteRangeOp(request: DeleteRangeRequest): EtcdOp {
  if (request.key.length === 0) throw etcdError("emptyKey");
  return { type: "deleteRange", key: request.key, rangeEnd: request.rangeEnd, prevKv: request.prevKv };
}

/** etcd's TxnRequest; a Range inside it reads the txn's own state, so a past revision there is refused. */
export function txnOf(request: TxnRequest): EtcdTxn {
  return {
    compare: request.compare.map(compareOf),
    success: request.success.map(requestOp),
    failure: request.failure.map(requestOp),
  };
}

function requestOp(op: RequestOp): EtcdOp {
  if (op.requestRange !== undefined) {
    const { revision, ...range } = rangeOf(op.requestRange);
    if (revision !== 0)
      throw invalid("raftkv reads a range inside a txn at the txn's own revision only (revision must be 0)");
    return { type: "range", ...range };
  }
  if (op.requestPut !== undefined) return putOp(op.requestPut);
  if (op.requestDeleteRange !== undefined) return deleteRangeOp(op.requestDeleteRange);
  if (op.requestTxn !== undefined) return { type: "txn", ...txnOf(op.requestTxn) };
  throw invalid("a txn op names no request");
}

function compareOf(compare: Compare): EtcdCompare {
  const result = enumValue(compareResults, compare.result, "compare result");
  const target = enumValue(compareTargets, compare.target, "compare target");
  const head = { key: compare.key, rangeEnd: compare.rangeEnd, result };
  if (target === "value") return { ...head, target, value: compare.value ?? new Uint8Array(0) };
  const operand =
    target === "version"
      ? compare.version
      : target === "create"
        ? compare.createRevision
        : target === "mod"
          ? compare.modRevision
          : compare.lease;
  return { ...head, target, number: notNegative(operand ?? 0, `compare ${target} operand`) };
}

/** A txn's responses as etcd's ResponseOps (the nested headers are the outer one, as etcd's are). */
export function responseOps(responses: readonly EtcdResponse[], header: ResponseHeader): ResponseOp[] {
  return responses.map((response): ResponseOp => {
    switch (response.type) {
      case "range":
        return { responseRange: { header, kvs: [...response.kvs], more: response.more, count: response.count } };
      case "put":
        return { responsePut: response.prevKv === null ? { header } : { header, prevKv: response.prevKv } };
      case "deleteRange":
        return { responseDeleteRange: { header, deleted: response.deleted, prevKvs: [...response.prevKvs] } };
      case "txn":
        return {
          responseTxn: { header, succeeded: response.succeeded, responses: responseOps(response.responses, header) },
        };
    }
  });
}
