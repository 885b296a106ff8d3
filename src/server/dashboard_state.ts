/**
 * What the dashboard remembers in memory on each member: recent leader and membership changes,
 * client reads and writes per second, and where the other members' client APIs listen.
 */
import type { Node, NodeObserver } from "../node/index.js";
import type { NodeId } from "../raft/index.js";
import { describeConfEntry } from "./log.js";

export interface LeaderChange {
  /** Milliseconds since the epoch, on this member's clock. */
  readonly at: number;
  readonly term: number;
  readonly leader: string;
}

export interface MemberChange {
  readonly at: number;
  readonly index: number;
  readonly op: string;
  readonly members: readonly string[];
  readonly text: string;
}

/** Client requests that entered at a member during one second (epoch second `t`). */
export interface RateSample {
  readonly t: number;
  readonly reads: number;
  readonly writes: number;
}

export interface ActivityOptions {
  /** Milliseconds since the epoch. */
  readonly now?: () => number;
  /** Changes kept per kind; older ones are forgotten. */
  readonly changesMax?: number;
  /** Seconds of request counts kept. */
  readonly rateSeconds?: number;
}

/**
 * Bounded histories fed by the node's observer hooks and the HTTP server. Leader changes are
 * recorded with the term as this member saw them; a member that restarts starts a new history.
 */
export class Activity {
  readonly #now: () => number;
  readonly #changesMax: number;
  readonly #rateSeconds: number;
  #node: Node | undefined;
  readonly #leaders: LeaderChange[] = [];
  readonly #members: MemberChange[] = [];
  /** Ring of per-second counts, slot = second % rateSeconds; `t` tells whether a slot is current. */
  readonly #slots: { t: number; reads: number; writes: number }[];

  constructor(options: ActivityOptions = {}) {
    this.#now = options.now ?? Date.now;
    this.#changesMax = options.changesMax ?? 50;
    this.#rateSeconds = options.rateSeconds ?? 300;
    this.#slots = Array.from({ length: this.#rateSeconds }, () => ({ t: -1, reads: 0, writes: 0 }));
  }

  /** The member, once created (the observer exists before it). */
  attach(node: Node): void {
    this.#node = node;
  }

  observer(): NodeObserver {
    const nameOf = (id: NodeId): string => this.#node?.nameOf(id) ?? String(id);
    return {
      leaderChanged: (leader) =>
        push(
          this.#leaders,
          { at: this.#now(), term: this.#node?.raft.status().term ?? 0, leader: nameOf(leader) },
          this.#changesMax,
        ),
      configApplied: (index, entry) => {
        const change = describeConfEntry(entry, nameOf);
        push(
          this.#members,
          { at: this.#now(), index, op: change.op, members: change.members, text: change.text },
          this.#changesMax,
        );
      },
    };
  }

  /** A client request entered here and was answered; only successful reads and writes count. */
  served(kind: "read" | "write"): void {
    const t = Math.floor(this.#now() / 1000);
    const slot = this.#slots[t % this.#rateSeconds]!;
    if (slot.t !== t) {
      slot.t = t;
      slot.reads = 0;
      slot.writes = 0;
    }
    if (kind === "read") slot.reads++;
    else slot.writes++;
  }

  leaderChanges(): readonly LeaderChange[] {
    return [...this.#leaders];
  }

  memberChanges(): readonly MemberChange[] {
    return [...this.#members];
  }

  /** When this member learned of the leader it follows now, if it knows one. */
  leaderSince(): number | undefined {
    const last = this.#leaders.at(-1);
    const status = this.#node?.raft.status();
    if (last === undefined || status === undefined || status.leader === 0) return undefined;
    return last.leader === this.#node?.nameOf(status.leader) ? last.at : undefined;
  }

  /** One sample per whole second of the window, oldest first, ending with the last completed second. */
  rates(): RateSample[] {
    const now = Math.floor(this.#now() / 1000);
    const out: RateSample[] = [];
    for (let t = now - this.#rateSeconds + 1; t < now; t++) {
      const slot = this.#slots[t % this.#rateSeconds]!;
      out.push(slot.t === t ? { t, reads: slot.reads, writes: slot.writes } : { t, reads: 0, writes: 0 });
    }
    return out;
  }
}

function push<T>(list: T[], item: T, max: number): void {
  list.push(item);
  if (list.length > max) list.splice(0, list.length - max);
}

/** Per-second samples of several members added up by second (clocks are assumed close). */
export function sumRates(series: readonly (readonly RateSample[])[]): RateSample[] {
  const byT = new Map<number, { reads: number; writes: number }>();
  for (const samples of series) {
    for (const s of samples) {
      const sum = byT.get(s.t) ?? { reads: 0, writes: 0 };
      sum.reads += s.reads;
      sum.writes += s.writes;
      byT.set(s.t, sum);
    }
  }
  return [...byT.entries()].sort((a, b) => a[0] - b[0]).map(([t, v]) => ({ t, ...v }));
}

export interface DirectoryEntry {
  readonly addr: string;
  /** When the member announced this address (its start time, ms since the epoch): the newest wins. */
  readonly stamp: number;
}

/**
 * Where each member's client API listens, learned by gossip: every member announces its own
 * address (stamped with its start time) to the members it knows, and merges what they know.
 * The leader's address is also in the replicated log (the forwarding key), which seeds it.
 * Kept in memory only: nothing here is written to the log, so it costs no revisions.
 */
export class Directory {
  readonly self: string;
  readonly #entries = new Map<string, DirectoryEntry>();

  readonly #stamp: number;

  constructor(self: string, stamp: number) {
    this.self = self;
    this.#stamp = stamp;
  }

  /** Sets our own address (known once the server listens). */
  announce(addr: string): void {
    this.#entries.set(this.self, { addr, stamp: this.#stamp });
  }

  get(name: string): string | undefined {
    return this.#entries.get(name)?.addr;
  }

  /** Takes each entry that is newer than what is known; our own entry only we change. */
  merge(entries: Readonly<Record<string, DirectoryEntry>>): void {
    for (const [name, entry] of Object.entries(entries)) {
      if (name === this.self) continue;
      const known = this.#entries.get(name);
      if (known === undefined || entry.stamp > known.stamp)
        this.#entries.set(name, { addr: entry.addr, stamp: entry.stamp });
    }
  }

  /** An address read from the log; used only until the member's own announcement arrives. */
  seed(name: string, addr: string): void {
    if (!this.#entries.has(name)) this.#entries.set(name, { addr, stamp: 0 });
  }

  /** Forgets members no longer in the configuration. */
  retain(names: ReadonlySet<string>): void {
    for (const name of this.#entries.keys()) if (name !== this.self && !names.has(name)) this.#entries.delete(name);
  }

  toJSON(): Record<string, DirectoryEntry> {
    return Object.fromEntries(this.#entries);
  }
}
