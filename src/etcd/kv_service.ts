/**
 * etcd's KV service on today's store: Range (phase 1 of issue 17; Put, DeleteRange, Txn and Compact
 * come with the store's revisions). Linearizable by default, serializable on request, as etcd.
 */
import { GrpcError, Status } from "../grpc/status.js";
import { etcdSpan, rangeLimitMax, type KeyValue } from "../kv/index.js";
import type { ServerContext } from "../server/context.js";
import { requireRead, type EtcdCall } from "./auth_identity.js";
import { etcdError, nodeErrorToGrpc } from "./errors.js";
import { header } from "./header.js";
import { RangeRequestSortOrder, RangeRequestSortTarget, type RangeRequest, type RangeResponse } from "./messages/kv.js";
import type { KeyValue as EtcdKeyValue } from "./messages/records.js";

const emptyBytes = new Uint8Array(0);

export async function range(ctx: ServerContext, request: RangeRequest, call: EtcdCall): Promise<RangeResponse> {
  if (request.key.length === 0) throw etcdError("emptyKey");
  if (request.limit < 0) throw new GrpcError(Status.INVALID_ARGUMENT, "limit must not be negative");
  if (request.revision < 0) throw new GrpcError(Status.INVALID_ARGUMENT, "revision must not be negative");
  try {
    await ctx.node.raft.readBarrier(request.serializable ? "serializable" : "linearizable");
  } catch (error) {
    throw nodeErrorToGrpc(error);
  }
  requireRead(ctx, call.principal, etcdSpan(request.key, request.rangeEnd));
  const current = ctx.kv.revision();
  if (request.revision > current) throw etcdError("futureRevision");
  if (request.revision !== 0 && request.revision < ctx.kv.compactRevision()) throw etcdError("compacted");
  if (request.revision !== 0 && request.revision !== current)
    throw new GrpcError(Status.UNIMPLEMENTED, "raftkv does not serve a Range at a past revision yet");
  let found = filtered(matching(ctx, request), request);
  sortInPlace(found, request);
  const count = found.length;
  if (request.countOnly) found = [];
  else if (request.limit > 0 && found.length > request.limit) found = found.slice(0, request.limit);
  return {
    header: header(ctx, current),
    kvs: found.map((kv) => etcdKeyValue(kv, request.keysOnly)),
    more: found.length < count && !request.countOnly,
    count,
  };
}

/** etcd's range: one key when range_end is empty, every key from `key` on when it is "\0", else [key, range_end). */
function matching(ctx: ServerContext, request: RangeRequest): KeyValue[] {
  if (request.rangeEnd.length === 0) {
    const kv = ctx.kv.get(request.key);
    return kv === null ? [] : [kv];
  }
  const unbounded = request.rangeEnd.length === 1 && request.rangeEnd[0] === 0;
  const spec = unbounded ? { from: request.key } : { from: request.key, to: request.rangeEnd };
  const result = ctx.kv.range(spec, rangeLimitMax);
  if (result.more)
    throw new GrpcError(
      Status.RESOURCE_EXHAUSTED,
      `raftkv serves at most ${rangeLimitMax} keys in one Range; narrow the range`,
    );
  return [...result.kvs];
}

function filtered(kvs: KeyValue[], request: RangeRequest): KeyValue[] {
  const { minModRevision, maxModRevision, minCreateRevision, maxCreateRevision } = request;
  if (minModRevision === 0 && maxModRevision === 0 && minCreateRevision === 0 && maxCreateRevision === 0) return kvs;
  return kvs.filter(
    (kv) =>
      (minModRevision === 0 || kv.modRevision >= minModRevision) &&
      (maxModRevision === 0 || kv.modRevision <= maxModRevision) &&
      (minCreateRevision === 0 || kv.createRevision >= minCreateRevision) &&
      (maxCreateRevision === 0 || kv.createRevision <= maxCreateRevision),
  );
}

/** Keys come in ascending order; other orders as etcd sorts them (ties keep key order: the sort is stable). */
function sortInPlace(kvs: KeyValue[], request: RangeRequest): void {
  const order = request.sortOrder;
  const target = request.sortTarget;
  if (
    order === RangeRequestSortOrder.None ||
    (order === RangeRequestSortOrder.Ascend && target === RangeRequestSortTarget.Key)
  )
    return;
  const by = (kv: KeyValue): number | string => {
    switch (target) {
      case RangeRequestSortTarget.Version:
        return kv.version;
      case RangeRequestSortTarget.Create:
        return kv.createRevision;
      case RangeRequestSortTarget.Mod:
        return kv.modRevision;
      case RangeRequestSortTarget.Value:
        return Buffer.from(kv.value).toString("latin1");
      default:
        return Buffer.from(kv.key).toString("latin1");
    }
  };
  const sign = order === RangeRequestSortOrder.Descend ? -1 : 1;
  kvs.sort((a, b) => {
    const x = by(a);
    const y = by(b);
    return x < y ? -sign : x > y ? sign : 0;
  });
}

function etcdKeyValue(kv: KeyValue, keysOnly = false): EtcdKeyValue {
  return {
    key: kv.key,
    createRevision: kv.createRevision,
    modRevision: kv.modRevision,
    version: kv.version,
    value: keysOnly ? emptyBytes : kv.value,
    lease: kv.lease,
  };
}
