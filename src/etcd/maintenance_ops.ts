/**
 * etcd's Maintenance calls beyond Status: MoveLeader, Alarm, Defragment, Hash/HashKV and Snapshot,
 * as far as each has a meaning on raftkv (docs/api.md).
 */
import { createHash } from "node:crypto";
import type { CallContext, StreamWriter } from "../grpc/call.js";
import { GrpcError, Status } from "../grpc/status.js";
import type { ServerContext } from "../server/context.js";
import { etcdError } from "./errors.js";
import { header } from "./header.js";
import type {
  AlarmRequest,
  AlarmResponse,
  DefragmentRequest,
  DefragmentResponse,
  HashKVRequest,
  HashKVResponse,
  HashRequest,
  HashResponse,
  MoveLeaderRequest,
  MoveLeaderResponse,
  SnapshotRequest,
  SnapshotResponse,
} from "./messages/maintenance.js";

const moveLeaderWaitMs = 5_000;
const snapshotChunkBytes = 64 * 1024;
const allKeys = { key: new Uint8Array([0]), rangeEnd: new Uint8Array([0]) };

/** As etcd: served by the leader only ("not leader" elsewhere); answers once the target leads. */
export async function moveLeader(
  ctx: ServerContext,
  request: MoveLeaderRequest,
  _call: CallContext,
): Promise<MoveLeaderResponse> {
  const status = ctx.node.raft.status();
  if (status.role !== "leader") throw etcdError("notLeader");
  const target = ctx.node.members().find((m) => m.id === request.targetID);
  if (target === undefined || target.learner) throw etcdError("badLeaderTransferee");
  if (target.id !== status.id) {
    const started = ctx.node.raft.transferLeader(target.id);
    if (!started.ok) throw new GrpcError(Status.FAILED_PRECONDITION, `raftkv: cannot transfer: ${started.error}`);
    const deadline = performance.now() + moveLeaderWaitMs;
    while (ctx.node.raft.status().leader !== target.id) {
      if (performance.now() > deadline)
        throw new GrpcError(Status.UNAVAILABLE, "etcdserver: request timed out, leader transfer took too long");
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }
  return { header: header(ctx) };
}

/** raftkv raises no alarms (it has no quota to run out of, and no corruption check): every list is empty. */
export function alarm(ctx: ServerContext, request: AlarmRequest, _call: CallContext): AlarmResponse {
  if (request.action !== 0)
    throw new GrpcError(Status.UNIMPLEMENTED, "raftkv raises no alarms, so none can be activated or deactivated");
  return { header: header(ctx), alarms: [] };
}

/** raftkv's store is in memory and its snapshots are written whole: there is nothing to defragment. */
export function defragment(ctx: ServerContext, _request: DefragmentRequest, _call: CallContext): DefragmentResponse {
  return { header: header(ctx) };
}

/**
 * A hash of the key-value state at a revision (0: the current one): every key's key, value,
 * revisions, version and lease, in key order (SHA-256, first 32 bits). Members that reached the same
 * revision give the same hash; it is not etcd's hash (etcd hashes its bbolt pages), so compare
 * raftkv members with each other only. A past revision must still be in this member's history.
 */
export function hashKV(ctx: ServerContext, request: HashKVRequest, _call: CallContext): HashKVResponse {
  if (request.revision < 0) throw new GrpcError(Status.INVALID_ARGUMENT, "revision must not be negative");
  const answer = ctx.watchHub.rangeAt({ ...allKeys, revision: request.revision });
  if (answer.type === "future") throw etcdError("futureRevision");
  if (answer.type === "compacted") throw etcdError("compacted");
  const hash = createHash("sha256");
  const numbers = Buffer.alloc(36);
  for (const kv of answer.answer.kvs) {
    numbers.writeUInt32BE(kv.key.length, 0);
    numbers.writeUInt32BE(kv.value.length, 4);
    numbers.writeDoubleBE(kv.createRevision, 8);
    numbers.writeDoubleBE(kv.modRevision, 16);
    numbers.writeUInt32BE(kv.version, 24);
    numbers.writeDoubleBE(kv.lease, 28);
    hash.update(numbers).update(kv.key).update(kv.value);
  }
  return {
    header: header(ctx, answer.revision),
    hash: hash.digest().readUInt32BE(0),
    compactRevision: ctx.kv.compactRevision(),
  };
}

/** etcd's Hash covers its whole database; here, the key-value state now (HashKV at revision 0). */
export function hashAll(ctx: ServerContext, _request: HashRequest, call: CallContext): HashResponse {
  const { hash } = hashKV(ctx, { revision: 0 }, call);
  return { header: header(ctx), hash };
}

/**
 * This member's store as raftkv's snapshot bytes (src/kv/snapshot.ts), not etcd's bbolt file:
 * `etcdctl snapshot save` stores it, `etcdctl snapshot restore` cannot read it (docs/api.md).
 */
export async function snapshot(
  ctx: ServerContext,
  _request: SnapshotRequest,
  out: StreamWriter<SnapshotResponse>,
  call: CallContext,
): Promise<void> {
  const bytes = ctx.kv.snapshot();
  const head = header(ctx);
  for (let at = 0; at < bytes.length || at === 0; at += snapshotChunkBytes) {
    if (call.signal.aborted) return;
    const blob = bytes.subarray(at, at + snapshotChunkBytes);
    await out.write({ header: head, remainingBytes: bytes.length - at - blob.length, blob });
    if (bytes.length === 0) return;
  }
}
