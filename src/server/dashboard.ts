/**
 * The operators' view on one member, behind the routes in dashboard_routes.ts: every member's status
 * gathered by the member asked, this member's own detailed view, and the gossip by which members
 * learn each other's client addresses.
 *
 * Why gossip: followers forward to the leader through the leader's client address, published in
 * the log; nobody published the followers' addresses. Writing them to the log too would cost
 * revisions at unpredictable times; instead each member announces its own address, in memory, to
 * the members it knows (the leader at least, whose address is in the log) and learns theirs in
 * the answer. Every member thus knows every other, also after the leader dies, and any member
 * can gather the whole cluster server-side — the page needs one origin and no build step.
 */
import { isValidName } from "../node/names.js";
import { parseAddress, type Node } from "../node/index.js";
import type { KvStore } from "../kv/index.js";
import {
  Directory,
  sumRates,
  type Activity,
  type DirectoryEntry,
  type LeaderChange,
  type MemberChange,
  type RateSample,
} from "./dashboard_state.js";
import { clientAddrKey } from "./forward.js";

const memberFetchTimeoutMs = 800;
const gossipIntervalMs = 1_000;
/** While some member's address is unknown (a start, a new leader), rounds come this often instead. */
const gossipEagerIntervalMs = 200;
/** Concurrent GET /v1/cluster within this long share one gathering. */
const viewReuseMs = 250;

/** A member's own view, as GET /v1/cluster/member answers it. */
export interface MemberView {
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

export interface ClusterView {
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

/** The dashboard's state on one member: histories, the address directory, the gossip timer. */
export class Dashboard {
  readonly activity: Activity;
  readonly directory: Directory;
  readonly startedAt: number;
  #node: Node | undefined;
  #kv: KvStore | undefined;
  #timer: NodeJS.Timeout | undefined;
  #gossiping = false;
  #lastGossipAt = -Infinity;
  #gathering: { at: number; view: Promise<ClusterView> } | undefined;
  /** The last rates each member reported, so a dead member's past requests stay on the chart. */
  readonly #lastRates = new Map<string, readonly RateSample[]>();

  constructor(options: { activity: Activity; name: string; startedAt?: number }) {
    this.activity = options.activity;
    this.startedAt = options.startedAt ?? Date.now();
    this.directory = new Directory(options.name, this.startedAt);
  }

  /** Starts gossiping addresses once a second; `clientAddr` is where this member's client API listens. */
  start(node: Node, kv: KvStore, clientAddr: string): void {
    this.directory.announce(clientAddr);
    this.#node = node;
    this.#kv = kv;
    this.activity.attach(node);
    this.#timer = setInterval(() => {
      const complete = node.members().every((m) => this.directory.get(m.name) !== undefined);
      if (!complete || performance.now() - this.#lastGossipAt >= gossipIntervalMs) void this.gossip();
    }, gossipEagerIntervalMs);
    this.#timer.unref();
    void this.gossip();
  }

  stop(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
  }

  /** One round: announce ourselves to every member we know and merge what they know. */
  async gossip(): Promise<void> {
    const node = this.#node;
    if (node === undefined || this.#gossiping) return;
    this.#gossiping = true;
    this.#lastGossipAt = performance.now();
    try {
      this.#refreshDirectory(node);
      const body = JSON.stringify({ from: node.name, directory: this.directory.toJSON() });
      await Promise.all(
        node
          .members()
          .filter((m) => m.name !== node.name)
          .map(async (m) => {
            const addr = this.directory.get(m.name);
            if (addr === undefined) return;
            const answer = await fetchJson(`http://${addr}/v1/cluster/hello`, {
              method: "POST",
              body,
              headers: { "content-type": "application/json" },
            });
            if (answer !== undefined)
              this.directory.merge(validDirectory(answer.directory, new Set(node.members().map((x) => x.name))));
          }),
      );
    } finally {
      this.#gossiping = false;
    }
  }

  /** Seeds addresses published in the log (leaders') and forgets members that left. */
  #refreshDirectory(node: Node): void {
    const names = new Set(node.members().map((m) => m.name));
    this.directory.retain(names);
    for (const name of names) {
      const stored = this.#kv?.get(clientAddrKey(name));
      if (stored !== null && stored !== undefined)
        this.directory.seed(name, Buffer.from(stored.value).toString("utf8"));
    }
    for (const name of this.#lastRates.keys()) if (!names.has(name)) this.#lastRates.delete(name);
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
  clusterView(node: Node): Promise<ClusterView> {
    const now = Date.now();
    if (this.#gathering !== undefined && now - this.#gathering.at < viewReuseMs) return this.#gathering.view;
    const view = this.#gather(node);
    this.#gathering = { at: now, view };
    return view;
  }

  async #gather(node: Node): Promise<ClusterView> {
    this.#refreshDirectory(node);
    const self = this.memberView(node);
    const members = node.members();
    const links = new Map(self.peers.map((p) => [p.id, p.state]));
    const answers = await Promise.all(
      members.map(async (m): Promise<{ view?: MemberView; error?: string }> => {
        if (m.name === node.name) return { view: self };
        const addr = this.directory.get(m.name);
        if (addr === undefined) return { error: "client address not known yet" };
        try {
          const answer = await fetchJson(`http://${addr}/v1/cluster/member`, {}, true);
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
        clientAddr: this.directory.get(m.name) ?? null,
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

/** GETs or POSTs JSON with a short deadline; undefined on any failure unless `raise`. */
async function fetchJson(
  url: string,
  init: { method?: string; body?: string; headers?: Record<string, string> },
  raise = false,
): Promise<Record<string, unknown> | undefined> {
  try {
    const response = await fetch(url, { ...init, signal: AbortSignal.timeout(memberFetchTimeoutMs) });
    const body: unknown = await response.json();
    if (!response.ok) throw new Error(`answered ${response.status}`);
    return typeof body === "object" && body !== null ? (body as Record<string, unknown>) : undefined;
  } catch (error) {
    if (!raise) return undefined;
    const cause = (error as { cause?: { code?: string } }).cause?.code;
    if (error instanceof Error && error.name === "TimeoutError")
      throw new Error(`no answer within ${memberFetchTimeoutMs} ms`);
    throw new Error(
      cause === "ECONNREFUSED" ? "connection refused" : error instanceof Error ? error.message : String(error),
    );
  }
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

/** The entries of a gossiped directory that name a member and a usable address. */
export function validDirectory(value: unknown, members: ReadonlySet<string>): Record<string, DirectoryEntry> {
  const out: Record<string, DirectoryEntry> = {};
  if (typeof value !== "object" || value === null || Array.isArray(value)) return out;
  for (const [name, entry] of Object.entries(value as Record<string, unknown>)) {
    if (!isValidName(name) || !members.has(name) || typeof entry !== "object" || entry === null) continue;
    const { addr, stamp } = entry as Record<string, unknown>;
    if (typeof addr !== "string" || addr.length > 300 || parseAddress(addr) === undefined) continue;
    if (typeof stamp !== "number" || !Number.isFinite(stamp) || stamp < 0) continue;
    out[name] = { addr, stamp };
  }
  return out;
}
