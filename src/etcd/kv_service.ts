/**
 * etcd's KV Range: linearizable by default, serializable on request, as etcd; a past revision is read
 * from this member's watch history (src/coord), so how far back it reaches is this member's own bound.
 */
import type { CallContext } from "../grpc/call.js";
import type { ServerContext } from "../server/context.js";
import { etcdError, nodeErrorToGrpc } from "./errors.js";
import { header } from "./header.js";
import { rangeOf } from "./kv_ops.js";
import type { RangeRequest, RangeResponse } from "./messages/kv.js";

export async function range(ctx: ServerContext, request: RangeRequest, _call: CallContext): Promise<RangeResponse> {
  const wanted = rangeOf(request);
  try {
    await ctx.node.raft.readBarrier(request.serializable ? "serializable" : "linearizable");
  } catch (error) {
    throw nodeErrorToGrpc(error);
  }
  const answer = ctx.watchHub.rangeAt(wanted);
  switch (answer.type) {
    case "future":
      throw etcdError("futureRevision");
    case "compacted":
      throw etcdError("compacted");
    case "range":
      return {
        header: header(ctx, answer.revision),
        kvs: [...answer.answer.kvs],
        more: answer.answer.more,
        count: answer.answer.count,
      };
  }
}
