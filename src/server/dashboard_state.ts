/**
 * What the dashboard remembers in memory on each member: recent leader and membership changes, and
 * client reads and writes per second.
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

interface ActivityOptions {
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
