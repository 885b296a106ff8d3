/**
 * etcd's membership changes on raftkv's Raft configuration: MemberAdd (learners only), MemberRemove,
 * MemberPromote; MemberUpdate is not served (a member's peer address is fixed when it is added).
 * Each runs on the leader (a follower passes the call on) and answers once the change is in force.
 */
import type { CallContext } from "../grpc/call.js";
import type { EtcdCall } from "./auth_identity.js";
import { GrpcError, Status } from "../grpc/status.js";
import { ConfChangeRefused, encodeMemberContext, nodeIdOf, parseAddress, type RaftNode } from "../node/index.js";
import type { ServerContext } from "../server/context.js";
import { leftJoint } from "../server/member_routes.js";
import { members } from "./cluster_service.js";
import { etcdError, nodeErrorToGrpc } from "./errors.js";
import { header } from "./header.js";
import { callLeader, isLeader } from "./leader_call.js";
import type {
  MemberAddRequest,
  MemberAddResponse,
  MemberPromoteRequest,
  MemberPromoteResponse,
  MemberRemoveRequest,
  MemberRemoveResponse,
  MemberUpdateRequest,
  MemberUpdateResponse,
} from "./messages/cluster.js";

type ConfChange = Exclude<Parameters<RaftNode["proposeConfChange"]>[0], readonly unknown[]>;

const noContext = new Uint8Array(0);

/**
 * The name a member added by peer URL gets (MemberAdd carries no name): its first peer URL's
 * `host-port`, every character a raftkv name may not hold replaced by "-"; the operator starts it
 * with `raftkv serve --id <that name>` (docs/api.md).
 */
export function memberNameOf(peerAddr: string): string {
  return peerAddr.replace(/:(\d+)$/, "-$1").replace(/[^A-Za-z0-9_.-]/g, "-");
}

/** The one peer address of a MemberAdd, or etcd's "given member URLs are invalid". */
function peerAddressOf(urls: readonly string[]): string {
  if (urls.length !== 1) {
    if (urls.length === 0) throw etcdError("memberBadUrls");
    throw new GrpcError(Status.INVALID_ARGUMENT, "raftkv members have one peer URL each");
  }
  let url: URL;
  try {
    url = new URL(urls[0]!);
  } catch {
    throw etcdError("memberBadUrls");
  }
  const address = `${url.hostname}:${url.port}`;
  const plain = url.pathname === "/" || url.pathname === "";
  if (!["http:", "https:"].includes(url.protocol) || url.port === "" || !plain || parseAddress(address) === undefined)
    throw etcdError("memberBadUrls");
  return address;
}

export async function memberAdd(
  ctx: ServerContext,
  request: MemberAddRequest,
  call: EtcdCall,
): Promise<MemberAddResponse> {
  const peerAddr = peerAddressOf(request.peerURLs);
  if (!request.isLearner)
    throw new GrpcError(
      Status.FAILED_PRECONDITION,
      "raftkv adds a member as a learner first: add it with --learner, start it, then promote it",
    );
  if (!isLeader(ctx)) return callLeader(ctx, call, names("MemberAdd"), request);
  const name = memberNameOf(peerAddr);
  const id = nodeIdOf(name);
  if (ctx.node.members().some((m) => m.peerAddr === peerAddr)) throw etcdError("peerUrlExists");
  if (ctx.node.members().some((m) => m.id === id)) throw etcdError("memberExists");
  await change(ctx, { type: "addLearner", id, context: encodeMemberContext({ name, peerAddr }) });
  const list = members(ctx, call.secure);
  const added = list.find((m) => m.ID === id);
  return added === undefined
    ? { header: header(ctx), members: list }
    : { header: header(ctx), member: added, members: list };
}

export async function memberRemove(
  ctx: ServerContext,
  request: MemberRemoveRequest,
  call: EtcdCall,
): Promise<MemberRemoveResponse> {
  if (!isLeader(ctx)) return callLeader(ctx, call, names("MemberRemove"), request);
  const member = ctx.node.members().find((m) => m.id === request.ID);
  if (member === undefined) throw etcdError("memberNotFound");
  await change(ctx, { type: "remove", id: member.id, context: noContext });
  return { header: header(ctx), members: members(ctx, call.secure) };
}

/** "In sync" is raftkv's promotion rule: the learner acknowledged entries and is within the leader's promotion lag. */
export async function memberPromote(
  ctx: ServerContext,
  request: MemberPromoteRequest,
  call: EtcdCall,
): Promise<MemberPromoteResponse> {
  if (!isLeader(ctx)) return callLeader(ctx, call, names("MemberPromote"), request);
  const member = ctx.node.members().find((m) => m.id === request.ID);
  if (member === undefined) throw etcdError("memberNotFound");
  if (!member.learner) throw etcdError("memberNotLearner");
  await change(ctx, { type: "promote", id: member.id, context: noContext });
  return { header: header(ctx), members: members(ctx, call.secure) };
}

export function memberUpdate(
  _ctx: ServerContext,
  _request: MemberUpdateRequest,
  _call: CallContext,
): MemberUpdateResponse {
  throw new GrpcError(
    Status.UNIMPLEMENTED,
    "raftkv cannot change a member's peer URL: remove the member and add it again at its new address",
  );
}

function names(call: string): { request: string; response: string } {
  return { request: `${call}Request`, response: `${call}Response` };
}

async function change(ctx: ServerContext, conf: ConfChange): Promise<void> {
  try {
    await ctx.node.raft.proposeConfChange(conf);
  } catch (error) {
    throw error instanceof ConfChangeRefused ? refusal(error) : nodeErrorToGrpc(error);
  }
  if (!(await leftJoint(ctx))) throw etcdError("timeout");
}

function refusal(error: ConfChangeRefused): GrpcError {
  switch (error.reason) {
    case "notLeader":
      return etcdError("leaderChanged");
    case "alreadyMember":
      return etcdError("memberExists");
    case "notMember":
      return etcdError("memberNotFound");
    case "notLearner":
      return etcdError("memberNotLearner");
    case "learnerBehind":
      return etcdError("learnerNotReady");
    case "changeInProgress":
      return new GrpcError(
        Status.FAILED_PRECONDITION,
        "raftkv: another membership change is still being applied; retry",
      );
    case "transferInProgress":
      return new GrpcError(Status.FAILED_PRECONDITION, "raftkv: leadership is being transferred; retry");
    case "lastVoter":
      return new GrpcError(Status.FAILED_PRECONDITION, "raftkv: removing the last voter would leave no one to decide");
    case "malformed":
      return new GrpcError(Status.INVALID_ARGUMENT, "raftkv: malformed membership change");
    case "notSupported":
      return new GrpcError(
        Status.UNIMPLEMENTED,
        "raftkv: this member's engine has a fixed ensemble (no membership changes)",
      );
  }
}
