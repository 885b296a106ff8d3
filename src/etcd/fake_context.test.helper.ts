/**
 * A member for the etcd services' unit tests: a real KvStore behind a node that applies each
 * proposal at once, leads (or follows) as the test says, and records membership changes. Past
 * revisions: only the current one is served (the history is src/coord's, tested there).
 */
import { GrpcError } from "../grpc/status.js";
import type { EtcdCall } from "./auth_identity.js";
import { KvStore, noUser, type RangeRequest } from "../kv/index.js";
import { ConfChangeRefused, decodeMemberContext, nodeIdOf, type MemberInfo } from "../node/index.js";
import type { ServerContext } from "../server/context.js";
import { logIndex, nodeId } from "../util/ids.js";

export interface FakeMember {
  readonly ctx: ServerContext;
  readonly kv: KvStore;
  role: "leader" | "follower";
  readonly membership: MemberInfo[];
  /** Members whose client address is known (the others are "unstarted"). */
  readonly started: Set<number>;
  /** Why the next conf change is refused, if it should be. */
  refuseNext: ConstructorParameters<typeof ConfChangeRefused>[0] | undefined;
  leader: number;
}

export function fakeMember(): FakeMember {
  const kv = new KvStore();
  let index = 0;
  const self = nodeIdOf("n1");
  const membership = threeVoters();
  const fake: FakeMember = {
    kv,
    role: "leader",
    membership,
    started: new Set(membership.map((m) => m.id)),
    refuseNext: undefined,
    leader: self,
    ctx: undefined as unknown as ServerContext,
  };
  const raft = {
    id: self,
    propose: (command: Uint8Array) => Promise.resolve(kv.apply(command, logIndex(++index))),
    readBarrier: () => Promise.resolve(),
    status: () => ({
      id: self,
      role: fake.role,
      term: 3,
      leader: fake.leader,
      commitIndex: index,
      appliedIndex: index,
    }),
    config: () => ({ outgoing: undefined }),
    failure: () => undefined,
    transferLeader: (to: number) => {
      fake.leader = to;
      fake.role = "follower";
      return { ok: true };
    },
    proposeConfChange: (change: { type: string; id: number; context: Uint8Array }) => {
      const refusal = fake.refuseNext;
      fake.refuseNext = undefined;
      if (refusal !== undefined) return Promise.reject(new ConfChangeRefused(refusal));
      index++;
      const at = membership.findIndex((m) => m.id === change.id);
      if (change.type === "remove") membership.splice(at, 1);
      else if (change.type === "promote") membership[at] = { ...membership[at]!, learner: false };
      else {
        const { name, peerAddr } = decodeMemberContext(change.context)!;
        membership.push({ name, id: nodeId(change.id), peerAddr, learner: true });
      }
      return Promise.resolve();
    },
  };
  const node = {
    name: "n1",
    raft,
    members: () => membership,
    clientAddressOf: (id: number) => (fake.started.has(id) ? `127.0.0.1:${id % 1000}` : undefined),
  };
  (fake as { ctx: ServerContext }).ctx = { kv, node, watchHub: currentOnly(kv) } as unknown as ServerContext;
  return fake;
}

function threeVoters(): MemberInfo[] {
  return ["n1", "n2", "n3"].map((name, i) => ({
    name,
    id: nodeIdOf(name),
    peerAddr: `127.0.0.1:${2380 + i}`,
    learner: false,
  }));
}

function currentOnly(kv: KvStore): { rangeAt: (request: RangeRequest) => unknown } {
  return {
    rangeAt: (request) => {
      const revision = kv.revision();
      const at = request.revision ?? 0;
      if (at > revision) return { type: "future", revision };
      if (at !== 0 && at < kv.compactRevision())
        return { type: "compacted", compactRevision: kv.compactRevision(), revision };
      return { type: "range", answer: kv.rangeEtcd({ ...request, revision: 0 }), revision };
    },
  };
}

/** A call made while auth is off: its principal is noUser. */
export function plainCall(path = "/etcdserverpb.KV/Range"): EtcdCall {
  return {
    path,
    metadata: {},
    signal: new AbortController().signal,
    peerCertificate: () => undefined,
    peerVerified: false,
    secure: false,
    remoteAddress: undefined,
    principal: noUser,
  };
}

/** A call's refusal as "code message", or "accepted" when it went through (a test compares it). */
export async function refusal(run: () => unknown): Promise<string> {
  try {
    await run();
  } catch (error) {
    if (error instanceof GrpcError) return `${error.code} ${error.message}`;
    throw error;
  }
  return "accepted";
}
