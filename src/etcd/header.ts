/** etcd's ResponseHeader, on every answer. */
import type { ServerContext } from "../server/context.js";
import type { ResponseHeader } from "./messages/kv.js";

/**
 * raftkv keeps no cluster id of its own, so every raftkv cluster reports this one ("raftkv" in
 * ASCII, 48 bits): stable across restarts and membership changes, and recognisable (docs/api.md).
 */
const raftkvClusterId = 0x7261_6674_6b76;

/** The header of an answer made now; `revision` is a write's own revision, else the store's current one. */
export function header(ctx: ServerContext, revision?: number): ResponseHeader {
  return {
    clusterId: raftkvClusterId,
    memberId: ctx.node.raft.id,
    revision: revision ?? ctx.kv.revision(),
    raftTerm: ctx.node.raft.status().term,
  };
}
