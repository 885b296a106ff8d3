/**
 * The operators' view on one member, behind the routes in dashboard_routes.ts: every member's status
 * gathered by the member asked, and this member's own detailed view. The member asked fetches the
 * others' views at their client addresses, which its node learnt from their peer hellos; so any
 * member can gather the whole cluster server-side, and the page needs one origin and no build step.
 */
import type { Node } from "../node/index.js";
import type { TlsCredentials } from "../tls/index.js";
import { sumRates, type Activity, type LeaderChange, type MemberChange, type RateSample } from "./dashboard_state.js";
import { getMemberJson } from "./member_json.js";

const memberFetchTimeoutMs = 800;
/** Concurrent GET /v1/cluster within this long share one gathering. */
const viewReuseMs = 250;

/** A member's own view, as GET /v1/cluster/member answers it. */
interface MemberView {
  readonly id: string;
  readonly role: string;
  readonly term: number;
  readonly leader: string | null;
  readonly commitIndex: number;
  readonly appliedIndex: number;
  readonly lastIndex: number;
  readonly snapshotIndex: number;
  /** This member's clock (ms since the epoch) when it answered. */
  readonly now: number;
  readonly startedAt: number;
  /** When it learned of its current leader, on its clock. */
  readonly leaderSince: number | null;
  /** Its outbound peer connections. */
  readonly peers: readonly { id: string; state: string; queued: number }[];
  readonly leaderChanges: readonly LeaderChange[];
  readonly memberChanges: readonly MemberChange[];
  readonly rates: readonly RateSample[];
}

/** One member in GET /v1/cluster. Status fields are null when it did not answer. */
export interface ClusterMember {
  readonly id: string;
  readonly peerAddr: string;
  readonly clientAddr: string | null;
  readonly learner: boolean;
  readonly reachable: boolean;
  readonly error: string | null;
  /** The answering member's outbound peer connection to it ("self" for itself). */
  readonly peerLink: string;
  readonly role: string | null;
  readonly term: number | null;
  readonly leader: string | null;
  readonly commitIndex: number | null;
  readonly appliedIndex: number | null;
  readonly lastIndex: number | null;
  readonly snapshotIndex: number | null;
  /** Entries its log is behind the leader's (leader's last index minus its own). */
  readonly lag: number | null;
  /** Committed entries it has not applied yet. */
  readonly applyLag: number | null;
}

interface ClusterView {
  /** The member that gathered this view, and its clock then. */
  readonly id: string;
  readonly now: number;
  readonly leader: { readonly id: string; readonly term: number; readonly since: number | null } | null;
  readonly members: readonly ClusterMember[];
  readonly leaderChanges: readonly LeaderChange[];
  readonly memberChanges: readonly MemberChange[];
  /** Client requests per second over the last minutes, added up over the members (the unreachable ones as last seen). */
  readonly rates: readonly RateSample[];
}

/** The dashboard's state on one member: histories, and the gathering of the others' views. */
export class Dashboard {
  readonly activity: Activity;
  readonly startedAt: number;
  #gathering: { at: number; view: Promise<ClusterView> } | undefined;
  /** The last rates each member reported, so a dead member's past requests stay on the chart. */
  readonly #lastRates = new Map<string, readonly RateSample[]>();
  /** This member's client-port TLS material: the others are asked over https, as member_request.ts says. */
  readonly #tls: TlsCredentials | undefined;

  constructor(options: { activity: Activity; startedAt?: number; tls?: TlsCredentials | undefined }) {
    this.activity = options.activity;
    this.startedAt = options.startedAt ?? Date.now();
    this.#tls = options.tls;
  }

  memberView(node: Node): MemberView {
    const s = node.raft.status();
    return {
      id: node.name,
      role: s.role,
      term: s.term,
      leader: s.leader === 0 ? null : node.nameOf(s.leader),
      commitIndex: s.commitIndex,
      appliedIndex: s.appliedIndex,
      lastIndex: s.lastIndex,
      snapshotIndex: s.snapshotIndex,
      now: Date.now(),
      startedAt: this.startedAt,
      leaderSince: this.activity.leaderSince() ?? null,
      peers: node.transport.peers().map((p) => ({ id: node.nameOf(p.id), state: p.state, queued: p.queued })),
      leaderChanges: this.activity.leaderChanges(),
      memberChanges: this.activity.memberChanges(),
      rates: this.activity.rates(),
    };
  }

  /** Every member's status, gathered now (or shared with a gathering under way). */
  clusterView(node: Node, authorization?: string): Promise<ClusterView> {
    const now = Date.now();
    if (this.#gathering !== undefined && now - this.#gathering.at < viewReuseMs) return this.#gathering.view;
    const view = this.#gather(node, authorization);
    this.#gathering = { at: now, view };
    return view;
  }

  async #gather(node: Node, authorization: string | undefined): Promise<ClusterView> {
    const self = this.memberView(node);
    const members = node.members();
    const names = new Set(members.map((m) => m.name));
    for (const name of this.#lastRates.keys()) if (!names.has(name)) this.#lastRates.delete(name);
    const links = new Map(self.peers.map((p) => [p.id, p.state]));
    const answers = await Promise.all(
      members.map(async (m): Promise<{ view?: MemberView; error?: string }> => {
        if (m.name === node.name) return { view: self };
        const addr = node.clientAddressOf(m.id);
        if (addr === undefined) return { error: "client address not known yet" };
        try {
          const headers = authorization === undefined ? {} : { authorization };
          const answer = await getMemberJson(this.#tls, addr, "/v1/cluster/member", memberFetchTimeoutMs, headers);
          const view = answer === undefined ? undefined : asMemberView(answer);
          return view === undefined ? { error: "unexpected answer" } : { view };
        } catch (error) {
          return { error: error instanceof Error ? error.message : String(error) };
        }
      }),
    );
    const views = answers.flatMap((a) => (a.view === undefined ? [] : [a.view]));
    for (const v of views) this.#lastRates.set(v.id, v.rates);
    const leaderView = pickLeader(views, self);
    const base = new Map<string, ClusterMember>();
    const clusterMembers = members.map((m, k): ClusterMember => {
      const v = answers[k]!.view;
      const entry: ClusterMember = {
        id: m.name,
        peerAddr: m.peerAddr,
        clientAddr: node.clientAddressOf(m.id) ?? null,
        learner: m.learner,
        reachable: v !== undefined,
        error: v === undefined ? (answers[k]!.error ?? "unreachable") : null,
        peerLink: m.name === node.name ? "self" : (links.get(m.name) ?? "none"),
        role: v?.role ?? null,
        term: v?.term ?? null,
        leader: v?.leader ?? null,
        commitIndex: v?.commitIndex ?? null,
        appliedIndex: v?.appliedIndex ?? null,
        lastIndex: v?.lastIndex ?? null,
        snapshotIndex: v?.snapshotIndex ?? null,
        lag: v !== undefined && leaderView !== undefined ? Math.max(0, leaderView.lastIndex - v.lastIndex) : null,
        applyLag: v === undefined ? null : Math.max(0, v.commitIndex - v.appliedIndex),
      };
      base.set(m.name, entry);
      return entry;
    });
    return {
      id: node.name,
      now: self.now,
      leader:
        leaderView === undefined
          ? null
          : {
              id: leaderView.id,
              term: leaderView.term,
              // On our clock: the leader's own record of when it took over, shifted by the clocks' difference.
              since: leaderView.leaderSince === null ? null : self.now - (leaderView.now - leaderView.leaderSince),
            },
      members: clusterMembers,
      leaderChanges: mergeLeaderChanges(views, self),
      memberChanges: mergeMemberChanges(views, self),
      rates: sumRates([...this.#lastRates.entries()].filter(([name]) => base.has(name)).map(([, rates]) => rates)),
    };
  }
}

/** The member that leads: a reachable one that says so (the highest term wins), else whom we follow. */
function pickLeader(views: readonly MemberView[], self: MemberView): MemberView | undefined {
  const leaders = views.filter((v) => v.role === "leader").sort((a, b) => b.term - a.term);
  if (leaders[0] !== undefined) return leaders[0];
  return self.leader === null ? undefined : views.find((v) => v.id === self.leader);
}

/** Each member records the same changes; keep one per (term, leader), the earliest, shifted to our clock. */
function mergeLeaderChanges(views: readonly MemberView[], self: MemberView): LeaderChange[] {
  const byKey = new Map<string, LeaderChange>();
  for (const v of views) {
    for (const c of v.leaderChanges) {
      const at = self.now - (v.now - c.at);
      const key = `${c.term}/${c.leader}`;
      const known = byKey.get(key);
      if (known === undefined || at < known.at) byKey.set(key, { ...c, at });
    }
  }
  return [...byKey.values()].sort((a, b) => a.term - b.term || a.at - b.at).slice(-50);
}

/** One entry per log index (the same change on every member), the earliest, shifted to our clock. */
function mergeMemberChanges(views: readonly MemberView[], self: MemberView): MemberChange[] {
  const byIndex = new Map<number, MemberChange>();
  for (const v of views) {
    for (const c of v.memberChanges) {
      const at = self.now - (v.now - c.at);
      const known = byIndex.get(c.index);
      if (known === undefined || at < known.at) byIndex.set(c.index, { ...c, at });
    }
  }
  return [...byIndex.values()].sort((a, b) => a.index - b.index).slice(-50);
}

function asMemberView(body: Record<string, unknown>): MemberView | undefined {
  const numbers = ["term", "commitIndex", "appliedIndex", "lastIndex", "snapshotIndex", "now", "startedAt"];
  if (
    typeof body.id !== "string" ||
    typeof body.role !== "string" ||
    !numbers.every((k) => typeof body[k] === "number")
  )
    return undefined;
  if (
    !Array.isArray(body.peers) ||
    !Array.isArray(body.leaderChanges) ||
    !Array.isArray(body.memberChanges) ||
    !Array.isArray(body.rates)
  )
    return undefined;
  return body as unknown as MemberView;
}
