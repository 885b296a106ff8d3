import { encodeMemberContext, nodeIdOf, parseAddress, ConfChangeRefused } from "../node/index.js";
import type { ConfChange, ConfChangeType, NodeId } from "../raft/index.js";
import { isValidName } from "../node/names.js";
import { membersJson } from "./cluster_routes.js";
import type { Request, ServerContext } from "./context.js";
import { HttpError, readJson, sendJson } from "./http_util.js";
import { nodeErrorToHttp } from "./kv_routes.js";

const memberBodyBytesMax = 64 * 1024;
const promotionWaitMs = 15_000;

function notSupported(): HttpError {
  return new HttpError(501, "not_supported", "this cluster's engine has a fixed membership");
}

/** Maps Raft's refusal of a membership change to a 4xx: nothing was proposed. */
function refusalToHttp(error: ConfChangeRefused, type: ConfChangeType, name: string): HttpError {
  switch (error.reason) {
    case "notLeader":
      return new HttpError(503, "no_leader", "this member stopped leading; retry");
    case "changeInProgress":
      return new HttpError(
        409,
        "change_in_progress",
        "another membership change is still being applied; retry when it is done",
      );
    case "alreadyMember":
      return new HttpError(409, "already_member", `${name} is already a member`);
    case "notMember":
      return new HttpError(404, "unknown_member", `${name} is not a member`);
    case "notLearner":
      return notLearner(name);
    case "lastVoter":
      return new HttpError(400, "last_voter", `${name} is the last voter; removing it would leave no one to decide`);
    case "learnerBehind":
      return new HttpError(409, "learner_behind", `${name} has not caught up with the log yet; retry shortly`);
    case "transferInProgress":
      return new HttpError(409, "transfer_in_progress", "leadership is being transferred; retry when it is done");
    case "malformed":
      return new HttpError(400, "bad_request", "malformed membership change");
    case "notSupported":
      // A fixed ensemble has only voters: promoting one is the caller's mistake, as on Raft.
      return type === "promote" ? notLearner(name) : notSupported();
  }
}

function notLearner(name: string): HttpError {
  return new HttpError(400, "not_learner", `${name} is a voter already; only a learner can be promoted`);
}

/** Runs a change on the leader (forwarding from a follower); resolves once it is applied. */
async function change(
  ctx: ServerContext,
  request: Request,
  type: ConfChangeType,
  name: string,
  peerAddr: string,
  body: Uint8Array | undefined,
): Promise<boolean> {
  if (ctx.node.raft.status().role !== "leader") {
    await ctx.forwarder.forward(request.req, request.res, body);
    return false;
  }
  const conf: ConfChange = {
    type,
    id: nodeIdOf(name),
    context: type === "addLearner" ? encodeMemberContext({ name, peerAddr }) : new Uint8Array(0),
  };
  try {
    await ctx.node.raft.proposeConfChange(conf);
  } catch (error) {
    throw error instanceof ConfChangeRefused ? refusalToHttp(error, type, name) : nodeErrorToHttp(error);
  }
  if (!(await leftJoint(ctx)))
    throw new HttpError(
      504,
      "timeout",
      "the change is applied but leaving the joint configuration is taking long; check GET /v1/members",
    );
  return true;
}

/**
 * A voter change is in force when the leader has also left the joint configuration it entered
 * (HTTP and etcd's Cluster service wait alike); false if that takes over 5 s.
 */
export async function leftJoint(ctx: ServerContext): Promise<boolean> {
  const deadline = performance.now() + 5_000;
  while (ctx.node.raft.config().outgoing !== undefined) {
    if (performance.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  return true;
}

function memberName(ctx: ServerContext, text: string | undefined): string {
  let name: string;
  try {
    name = decodeURIComponent(text ?? "");
  } catch {
    throw new HttpError(400, "bad_request", "the member id has a malformed %-escape");
  }
  if (!isValidName(name)) throw new HttpError(400, "bad_request", `invalid member id ${JSON.stringify(name)}`);
  if (!ctx.node.members().some((m) => m.name === name))
    throw new HttpError(404, "unknown_member", `${name} is not a member`);
  return name;
}

export function listMembers(ctx: ServerContext, request: Request): void {
  sendJson(request.res, 200, { members: membersJson(ctx) });
}

/**
 * POST /v1/members {"id","peerAddr","learner"}: adds a learner; without `learner: true` it is then
 * promoted as soon as it has caught up (a voter that cannot keep up would stall every commit).
 */
export async function addMember(ctx: ServerContext, request: Request): Promise<void> {
  const raw = await readJson(request.req, memberBodyBytesMax);
  if (typeof raw !== "object" || raw === null || Array.isArray(raw))
    throw new HttpError(400, "bad_request", 'the body must be {"id","peerAddr","learner"}');
  const { id, peerAddr, learner } = raw as Record<string, unknown>;
  if (typeof id !== "string" || !isValidName(id))
    throw new HttpError(400, "bad_request", "id must be a member name like n4");
  if (typeof peerAddr !== "string" || parseAddress(peerAddr) === undefined)
    throw new HttpError(400, "bad_request", "peerAddr must be host:port");
  if (learner !== undefined && typeof learner !== "boolean")
    throw new HttpError(400, "bad_request", "learner must be true or false");
  const clash = ctx.node.members().find((m) => m.id === nodeIdOf(id) && m.name !== id);
  if (clash !== undefined)
    throw new HttpError(409, "id_collision", `${id} collides with member ${clash.name}; choose another name`);
  const body = new TextEncoder().encode(JSON.stringify(raw));
  // A retried add of the same member at the same address succeeds again instead of failing.
  const existing = ctx.node.members().find((m) => m.name === id);
  if (existing !== undefined && existing.peerAddr !== peerAddr)
    throw new HttpError(409, "already_member", `${id} is already a member at ${existing.peerAddr}`);
  if (existing === undefined && !(await change(ctx, request, "addLearner", id, peerAddr, body))) return;
  if (existing !== undefined && ctx.node.raft.status().role !== "leader") {
    await ctx.forwarder.forward(request.req, request.res, body);
    return;
  }
  if (learner !== true && (existing === undefined || existing.learner)) await promoteWhenCaughtUp(ctx, id);
  sendJson(request.res, 200, { members: membersJson(ctx) });
}

async function promoteWhenCaughtUp(ctx: ServerContext, name: string): Promise<void> {
  const deadline = performance.now() + promotionWaitMs;
  for (;;) {
    try {
      await ctx.node.raft.proposeConfChange({ type: "promote", id: nodeIdOf(name), context: new Uint8Array(0) });
      return;
    } catch (error) {
      const retry =
        error instanceof ConfChangeRefused && (error.reason === "learnerBehind" || error.reason === "changeInProgress");
      if (!retry) {
        // The learner is in already: only the promotion failed, so "not applied" would mislead.
        const why = error instanceof Error ? error.message : String(error);
        throw new HttpError(
          504,
          "timeout",
          `${name} was added as a learner but its promotion did not complete (${why}); retry the same request`,
        );
      }
      if (performance.now() > deadline) {
        throw new HttpError(
          504,
          "timeout",
          `${name} was added as a learner but has not caught up; promote it later with POST /v1/members/${name}/promote`,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

export async function promoteMember(ctx: ServerContext, request: Request): Promise<void> {
  const name = memberName(ctx, request.params[0]);
  if (!(await change(ctx, request, "promote", name, "", new Uint8Array(0)))) return;
  sendJson(request.res, 200, { members: membersJson(ctx) });
}

export async function removeMember(ctx: ServerContext, request: Request): Promise<void> {
  const name = memberName(ctx, request.params[0]);
  if (!(await change(ctx, request, "remove", name, "", undefined))) return;
  sendJson(request.res, 200, { members: membersJson(ctx) });
}

/** POST /v1/leader/transfer {"to"}: answers once `to` leads (or the transfer visibly failed). */
export async function transferLeader(ctx: ServerContext, request: Request): Promise<void> {
  const raw = await readJson(request.req, memberBodyBytesMax);
  const to = typeof raw === "object" && raw !== null ? (raw as Record<string, unknown>).to : undefined;
  if (typeof to !== "string") throw new HttpError(400, "bad_request", 'the body must be {"to": MEMBER}');
  const target = ctx.node.members().find((m) => m.name === to);
  if (target === undefined) throw new HttpError(404, "unknown_member", `${to} is not a member`);
  if (target.learner) throw new HttpError(400, "not_voter", `${to} is a learner; only a voter can lead`);
  const status = ctx.node.raft.status();
  if (status.leader === target.id) {
    sendJson(request.res, 200, { leader: to });
    return;
  }
  if (status.role !== "leader") {
    await ctx.forwarder.forward(request.req, request.res, new TextEncoder().encode(JSON.stringify(raw)));
    return;
  }
  const started = ctx.node.raft.transferLeader(target.id);
  if (!started.ok && started.error === "notSupported") throw notSupported();
  if (!started.ok) throw new HttpError(409, "transfer_refused", `cannot transfer to ${to}: ${started.error}`);
  await waitForLeader(ctx, target.id, to);
  sendJson(request.res, 200, { leader: to });
}

async function waitForLeader(ctx: ServerContext, id: NodeId, name: string): Promise<void> {
  const deadline = performance.now() + 5_000;
  while (ctx.node.raft.status().leader !== id) {
    if (performance.now() > deadline)
      throw new HttpError(
        504,
        "timeout",
        `${name} did not take over in time; the transfer was abandoned or is still under way`,
      );
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
