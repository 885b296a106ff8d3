import type { Request, ServerContext } from "./context.js";
import { HttpError, sendJson } from "./http_util.js";
import { nodeErrorToHttp } from "./kv_routes.js";

export function membersJson(ctx: ServerContext): { id: string; peerAddr: string; learner: boolean }[] {
  return ctx.node.members().map((m) => ({ id: m.name, peerAddr: m.peerAddr, learner: m.learner }));
}

export function status(ctx: ServerContext, request: Request): void {
  const s = ctx.node.raft.status();
  sendJson(request.res, 200, {
    id: ctx.node.name,
    role: s.role,
    term: s.term,
    leader: s.leader === 0 ? null : ctx.node.nameOf(s.leader),
    commitIndex: s.commitIndex,
    appliedIndex: s.appliedIndex,
    lastIndex: s.lastIndex,
    snapshotIndex: s.snapshotIndex,
    compactRevision: ctx.kv.compactRevision(),
    members: membersJson(ctx),
  });
}

export function healthz(ctx: ServerContext, request: Request): void {
  const failure = ctx.node.raft.failure();
  if (failure !== undefined) throw new HttpError(503, "unhealthy", failure.message);
  sendJson(request.res, 200, { health: "ok" });
}

/** Ready: knows a leader and has applied through the leader's commit index as of this request. */
export async function readyz(ctx: ServerContext, request: Request): Promise<void> {
  try {
    await ctx.node.raft.readBarrier("linearizable");
  } catch (error) {
    const http = nodeErrorToHttp(error);
    throw new HttpError(503, "not_ready", http.message);
  }
  sendJson(request.res, 200, { ready: true, appliedIndex: ctx.node.raft.status().appliedIndex });
}

export async function metrics(ctx: ServerContext, request: Request): Promise<void> {
  const m = ctx.metrics;
  m.update(ctx.node);
  const text = await m.registry.metrics();
  request.res.writeHead(200, { "content-type": m.registry.contentType });
  request.res.end(text);
}
