/** etcd's Maintenance service: Status (phase 1 of issue 17). */
import type { CallContext } from "../grpc/call.js";
import type { ServerContext } from "../server/context.js";
import { header } from "./header.js";
import type { StatusRequest, StatusResponse } from "./messages/maintenance.js";

/**
 * The version etcdctl prints: the etcd API raftkv speaks, marked as raftkv's (a semver pre-release,
 * so a client that parses major.minor still reads 3.4).
 */
const raftkvEtcdVersion = "3.4.23-raftkv";

/** The snapshot's size stands for etcd's database size; making one costs a pass over the store, so it is kept a while. */
const dbSizeTtlMs = 5000;
const dbSizes = new WeakMap<ServerContext, { size: number; at: number }>();

function dbSize(ctx: ServerContext): number {
  const now = performance.now();
  const known = dbSizes.get(ctx);
  if (known !== undefined && now - known.at < dbSizeTtlMs) return known.size;
  const size = ctx.kv.snapshot().length;
  dbSizes.set(ctx, { size, at: now });
  return size;
}

export function status(ctx: ServerContext, _request: StatusRequest, _call: CallContext): StatusResponse {
  const s = ctx.node.raft.status();
  const self = ctx.node.members().find((m) => m.id === s.id);
  const size = dbSize(ctx);
  return {
    header: header(ctx),
    version: raftkvEtcdVersion,
    dbSize: size,
    leader: s.leader,
    raftIndex: s.commitIndex,
    raftTerm: s.term,
    raftAppliedIndex: s.appliedIndex,
    errors: ctx.node.raft.failure() === undefined ? [] : [String(ctx.node.raft.failure()?.message)],
    dbSizeInUse: size,
    isLearner: self?.learner === true,
  };
}
