import { sameTag, type EngineEntry, type EngineTag } from "../engine/engine.js";
import type { Entry, LogIndex, NodeId, Role, Term } from "../raft/index.js";
import { bytesEqual } from "../util/bytes.js";

/** The properties the simulator checks (docs/testing.md lists each with what it catches). */
export type ViolationKind =
  | "electionSafety"
  | "logMatching"
  | "leaderCompleteness"
  | "stateMachineSafety"
  | "doubleVote"
  | "commitRegression"
  | "appliedBeyondCommit"
  | "unsafeCommit"
  | "notDurable"
  | "staleRead"
  | "linearizability"
  | "exactlyOnce"
  | "codec"
  | "isolatedTermRise"
  | "disruptedLeader"
  | "liveness"
  | "watch"
  | "lease"
  | "assertion"
  /** Multi-Paxos: two values chosen at a slot, or one learnt or applied that no quorum accepted. */
  | "paxosChosen"
  /** Multi-Paxos: an acceptor broke or lowered its promise, or accepted two values in one ballot at a slot. */
  | "paxosPromise"
  /** ZAB: a member delivered a leader's transactions out of order, skipped one, or an earlier epoch's after a later one's. */
  | "zabPrimaryOrder"
  /** ZAB: two members delivered different transactions at one index. */
  | "zabDelivery"
  /** ZAB: a leader established its epoch without every earlier commit, or two leaders one epoch. */
  | "zabLeaderCompleteness"
  /** ZAB: a delivered transaction not on a quorum's disks, an acknowledgement of what was not durable, or a restart that lost it. */
  | "zabDurability";

export interface Violation {
  readonly kind: ViolationKind;
  readonly message: string;
}

/** Just enough of a node's log for the checks. */
export interface LogView {
  termAt(index: LogIndex): Term | undefined;
  /** Entries before it are compacted into a snapshot and cannot be checked. */
  firstIndex(): LogIndex;
}

/**
 * Cluster-wide safety checks fed by observations of every node. Each check keeps the smallest
 * global record that makes it incremental, so it can run after every simulator step.
 */
export class SafetyChecker {
  readonly violations: Violation[] = [];
  readonly #leaderOfTerm = new Map<Term, NodeId>();
  /** (index, term) → the entry every log holding that pair must agree on, and its predecessor's term. */
  readonly #entryAt = new Map<string, { data: Uint8Array; prevTerm: Term | undefined }>();
  /** Index → the entry applied there by whoever applied it first (so committed). */
  /** Sparse: the entry applied at each index, by whoever applied it first. */
  readonly #applied: (EngineEntry | undefined)[] = [];
  readonly #votes = new Map<string, NodeId>();
  readonly #commit = new Map<NodeId, LogIndex>();
  readonly #durableCommit = new Map<NodeId, LogIndex>();
  readonly #appliedCount = new Map<NodeId, number>();
  readonly #snapshots = new Map<number, Uint8Array>();

  #fail(kind: ViolationKind, message: string): void {
    this.violations.push({ kind, message });
  }

  /** A check made outside this class (the cluster's and the workload's) found `kind` broken. */
  fail(kind: ViolationKind, message: string): void {
    this.#fail(kind, message);
  }

  /** Election safety, and leader completeness for each newly seen leader. */
  observeRole(node: NodeId, role: Role, t: Term, log: LogView): void {
    if (role !== "leader") return;
    const known = this.#leaderOfTerm.get(t);
    if (known === node) return;
    if (known !== undefined) {
      this.#fail("electionSafety", `nodes ${known} and ${node} both lead term ${t}`);
      return;
    }
    this.#leaderOfTerm.set(t, node);
    const compacted = log.firstIndex() - 1;
    for (const entry of this.#applied) {
      if (entry === undefined || entry.index < compacted) continue;
      // Raft's entries are tagged with their term.
      if (log.termAt(entry.index) !== entry.tag) {
        this.#fail(
          "leaderCompleteness",
          `leader ${node} of term ${t} lacks committed entry ${entry.index} (${describeTag(entry.tag)}); has term ${log.termAt(entry.index)}`,
        );
        return;
      }
    }
  }

  /** Log matching: equal (index, term) means equal entry and equal history before it. */
  observeAppend(node: NodeId, entries: readonly Entry[], log: LogView): void {
    for (const entry of entries) {
      const key = `${entry.index}:${entry.term}`;
      const prevTerm = entry.index === 1 ? (0 as Term) : log.termAt((entry.index - 1) as LogIndex);
      const known = this.#entryAt.get(key);
      if (known === undefined) {
        this.#entryAt.set(key, { data: entry.data, prevTerm });
        continue;
      }
      if (
        !bytesEqual(known.data, entry.data) ||
        (prevTerm !== undefined && known.prevTerm !== undefined && known.prevTerm !== prevTerm)
      ) {
        this.#fail("logMatching", `node ${node} holds a different entry at index ${entry.index} term ${entry.term}`);
      }
    }
  }

  /** State machine safety: every node applies the same entry at an index, in index order. */
  observeApply(node: NodeId, entry: EngineEntry): void {
    const expected = (this.#appliedCount.get(node) ?? 0) + 1;
    if (entry.index !== expected) {
      this.#fail("stateMachineSafety", `node ${node} applied index ${entry.index}, expected ${expected}`);
    }
    this.#appliedCount.set(node, entry.index);
    const first = this.#applied[entry.index - 1];
    if (first === undefined) {
      this.#applied[entry.index - 1] = entry;
    } else if (!sameTag(first.tag, entry.tag) || first.kind !== entry.kind || !bytesEqual(first.data, entry.data)) {
      this.#fail(
        "stateMachineSafety",
        `node ${node} applied a different entry at index ${entry.index} (${describeTag(entry.tag)} vs ${describeTag(first.tag)})`,
      );
    }
  }

  /** A node's state machine restarted, empty or from a snapshot through `index`; it applies from index + 1. */
  observeStateMachineReset(node: NodeId, index: number): void {
    this.#appliedCount.set(node, index);
  }

  /** Every snapshot of the state at one index, taken or restored on any node, is byte for byte the same. */
  observeSnapshot(node: NodeId, index: number, data: Uint8Array): void {
    const first = this.#snapshots.get(index);
    if (first === undefined) this.#snapshots.set(index, data);
    else if (!bytesEqual(first, data))
      this.#fail("stateMachineSafety", `node ${node} has a different state at snapshot index ${index}`);
  }

  /** For checks that only a particular state machine can make (an ID handed out twice). */
  failStateMachine(message: string): void {
    this.#fail("stateMachineSafety", message);
  }

  /** A vote as it leaves the node: never two candidates in one term, across crashes too. */
  observeVote(node: NodeId, t: Term, candidate: NodeId): void {
    const key = `${node}:${t}`;
    const earlier = this.#votes.get(key);
    if (earlier === undefined) this.#votes.set(key, candidate);
    else if (earlier !== candidate)
      this.#fail("doubleVote", `node ${node} voted for ${earlier} and ${candidate} in term ${t}`);
  }

  /** The in-memory commit index of a running node never moves back; `restarted` starts a new life. */
  observeCommit(node: NodeId, commit: LogIndex, applied: number, restarted: boolean): void {
    const before = this.#commit.get(node);
    if (!restarted && before !== undefined && commit < before) {
      this.#fail("commitRegression", `node ${node} commit went from ${before} to ${commit}`);
    }
    this.#commit.set(node, commit);
    if (applied > commit) this.#fail("appliedBeyondCommit", `node ${node} applied ${applied} beyond commit ${commit}`);
  }

  /** The durable commit index never moves back, whatever crashes happen. */
  observeDurableCommit(node: NodeId, commit: LogIndex): void {
    const before = this.#durableCommit.get(node) ?? 0;
    if (commit < before) this.#fail("commitRegression", `node ${node} durable commit went from ${before} to ${commit}`);
    this.#durableCommit.set(node, commit);
  }

  /**
   * Linearizable reads: a read index must cover every entry committed before the read was asked
   * for (`floor`: the highest commit index any node knew at that moment).
   */
  observeRead(node: NodeId, index: number, floor: number): void {
    if (index < floor)
      this.#fail("staleRead", `node ${node} got read index ${index}, but ${floor} was committed before the read began`);
  }

  failLiveness(message: string): void {
    this.#fail("liveness", message);
  }

  failAssertion(message: string): void {
    this.#fail("assertion", message);
  }

  /** Highest index applied anywhere. */
  appliedIndex(): number {
    return this.#applied.length;
  }

  appliedEntry(index: number): EngineEntry | undefined {
    return this.#applied[index - 1];
  }
}

function describeTag(tag: EngineTag): string {
  return typeof tag === "number" ? `term ${tag}` : `${tag.byteLength} bytes`;
}
