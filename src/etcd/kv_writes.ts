/**
 * etcd's KV writes (Put, DeleteRange, Txn, Compact), each one replicated command. gRPC clients send no
 * raftkv session, so a write is applied at most once per call, as etcd's are: a client that retries
 * after losing the answer may apply it twice (docs/api.md).
 */
import { GrpcError, Status } from "../grpc/status.js";
import {
  commandBytesMax,
  encodeCommand,
  etcdTxnSize,
  valueBytesMax,
  type EtcdOp,
  type EtcdResponse,
  type EtcdTxn,
  type KvCommand,
  type KvResult,
} from "../kv/index.js";
import type { ServerContext } from "../server/context.js";
import { assert } from "../util/assert.js";
import type { EtcdCall } from "./auth_identity.js";
import { etcdError, nodeErrorToGrpc } from "./errors.js";
import { header } from "./header.js";
import { deleteRangeOp, putOp, responseOps, txnOf } from "./kv_ops.js";
import type {
  CompactionRequest,
  CompactionResponse,
  DeleteRangeRequest,
  DeleteRangeResponse,
  PutRequest,
  PutResponse,
  TxnRequest,
  TxnResponse,
} from "./messages/kv.js";

export async function put(ctx: ServerContext, request: PutRequest, call: EtcdCall): Promise<PutResponse> {
  const { revision, responses } = await runTxn(ctx, oneOp(putOp(request)), call.principal);
  const { prevKv } = onlyAnswer(responses, "put");
  return prevKv === null ? { header: header(ctx, revision) } : { header: header(ctx, revision), prevKv };
}

export async function deleteRange(
  ctx: ServerContext,
  request: DeleteRangeRequest,
  call: EtcdCall,
): Promise<DeleteRangeResponse> {
  const { revision, responses } = await runTxn(ctx, oneOp(deleteRangeOp(request)), call.principal);
  const { deleted, prevKvs } = onlyAnswer(responses, "deleteRange");
  return { header: header(ctx, revision), deleted, prevKvs: [...prevKvs] };
}

export async function txn(ctx: ServerContext, request: TxnRequest, call: EtcdCall): Promise<TxnResponse> {
  const { succeeded, revision, responses } = await runTxn(ctx, txnOf(request), call.principal);
  const head = header(ctx, revision);
  return { header: head, succeeded, responses: responseOps(responses, head) };
}

/**
 * etcd's Compact. `physical` asks etcd to answer only once the compaction reached its backend; here
 * the compaction is a log entry, done on every member as it applies it, so every answer is "physical".
 */
export async function compact(
  ctx: ServerContext,
  request: CompactionRequest,
  call: EtcdCall,
): Promise<CompactionResponse> {
  if (request.revision < 0) throw new GrpcError(Status.INVALID_ARGUMENT, "revision must not be negative");
  const result = await propose(ctx, { type: "compact", revision: request.revision, principal: call.principal });
  if (result.type === "compacted") return { header: header(ctx, result.revision) };
  if (result.type === "compactRefused") throw etcdError(result.reason === "compacted" ? "compacted" : "futureRevision");
  throw unexpected(result);
}

function oneOp(op: EtcdOp): EtcdTxn {
  return { compare: [], success: [op], failure: [] };
}

/** The answer of a txn from oneOp: with no compares its success branch runs, so it has one of `type`. */
function onlyAnswer<T extends EtcdResponse["type"]>(
  responses: readonly EtcdResponse[],
  type: T,
): Extract<EtcdResponse, { type: T }> {
  const answer = responses[0];
  assert(answer?.type === type, `a one-op txn answered ${answer?.type ?? "nothing"}, not ${type}`);
  return answer as Extract<EtcdResponse, { type: T }>;
}

async function runTxn(
  ctx: ServerContext,
  body: EtcdTxn,
  principal: string,
): Promise<{ succeeded: boolean; revision: number; responses: readonly EtcdResponse[] }> {
  refuseTooLarge(body);
  const problem = etcdTxnSize(body);
  if (typeof problem !== "number")
    switch (problem.type) {
      case "tooManyOps":
      case "duplicateKey":
      case "valueProvided":
      case "leaseProvided":
        throw etcdError(problem.type);
      case "invalid":
        throw new GrpcError(Status.INVALID_ARGUMENT, problem.reason);
    }
  if (problem > commandBytesMax) throw etcdError("requestTooLarge");
  const result = await propose(ctx, { type: "etcdTxn", ...body, principal });
  if (result.type === "etcdTxn") return result;
  if (result.type === "keyNotFound" || result.type === "leaseNotFound" || result.type === "permissionDenied")
    throw etcdError(result.type);
  throw unexpected(result);
}

/**
 * etcd refuses a request over its --max-request-bytes (1.5 MiB by default, raftkv's value limit):
 * the bytes a client sends are its keys, values and range ends.
 */
function refuseTooLarge(body: EtcdTxn): void {
  if (txnBytes(body) > valueBytesMax) throw etcdError("requestTooLarge");
}

function txnBytes(body: EtcdTxn): number {
  let bytes = 0;
  for (const compare of body.compare)
    bytes += compare.key.length + compare.rangeEnd.length + (compare.target === "value" ? compare.value.length : 0);
  for (const op of [...body.success, ...body.failure])
    bytes +=
      op.type === "txn" ? txnBytes(op) : op.key.length + (op.type === "put" ? op.value.length : op.rangeEnd.length);
  return bytes;
}

/** Refused early when the principal may not (the store checks again when it applies it, as the HTTP routes). */
async function propose(ctx: ServerContext, command: KvCommand): Promise<KvResult> {
  if (!ctx.kv.permitted(command)) throw etcdError("permissionDenied");
  try {
    return (await ctx.node.raft.propose(encodeCommand(command))) as KvResult;
  } catch (error) {
    throw nodeErrorToGrpc(error);
  }
}

/** A result the command cannot give (an `invalid` entry: this member's check and the codec disagree). */
function unexpected(result: KvResult): GrpcError {
  const detail = result.type === "invalid" ? result.error : result.type;
  return new GrpcError(Status.INTERNAL, `raftkv: the write was not applied (${detail})`);
}
