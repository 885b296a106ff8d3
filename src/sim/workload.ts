import type { NodeId } from "../raft/index.js";
import type { Prng } from "../util/prng.js";
import type { SimCluster } from "./cluster.js";

/** Proposal payloads: a tag byte (so they never look like the leader's empty no-op) and an id. */
function encodeProposal(id: number): Uint8Array {
  const bytes = new Uint8Array(5);
  bytes[0] = 0x50;
  new DataView(bytes.buffer).setUint32(1, id);
  return bytes;
}

function decodeProposal(data: Uint8Array): number | undefined {
  if (data.byteLength !== 5 || data[0] !== 0x50) return undefined;
  return new DataView(data.buffer, data.byteOffset, data.byteLength).getUint32(1);
}

export type ProposalOutcome = "pending" | "committed" | "rejected";

/**
 * A client that proposes at random live nodes and tracks each proposal until it commits (some
 * node applied it) or is known to have failed (refused at once, e.g. no leader known).
 */
export class ClientWorkload {
  readonly #cluster: SimCluster;
  readonly #prng: Prng;
  readonly #outcomes = new Map<number, ProposalOutcome>();
  /** Which nodes have applied each proposal, for the liveness check. */
  readonly #appliedBy = new Map<number, Set<NodeId>>();
  /** The log index at which each committed proposal was applied. */
  readonly #indexOf = new Map<number, number>();
  #nextId = 1;
  /** Reads asked for and not yet answered: context id → the commit floor when asked. */
  readonly #readFloor = new Map<number, number>();
  readsAnswered = 0;

  constructor(cluster: SimCluster, prng: Prng) {
    this.#cluster = cluster;
    this.#prng = prng;
    cluster.onApply((node, index, data) => {
      const id = decodeProposal(data);
      if (id === undefined || !this.#outcomes.has(id)) return;
      this.#outcomes.set(id, "committed");
      if (!this.#indexOf.has(id)) this.#indexOf.set(id, index);
      let nodes = this.#appliedBy.get(id);
      if (nodes === undefined) this.#appliedBy.set(id, (nodes = new Set()));
      nodes.add(node);
    });
  }

  /** Proposes every so often between `from` and `to` (virtual ms). */
  schedule(from: number, to: number, intervalMaxMs: number): void {
    for (let t = from + this.#prng.int(1, intervalMaxMs + 1); t < to; t += this.#prng.int(1, intervalMaxMs + 1)) {
      this.#cluster.at(t, () => {
        const live = this.#cluster.liveIds();
        if (live.length > 0) this.proposeAt(this.#prng.pick(live));
      });
    }
  }

  /**
   * Asks random live nodes for read indexes between `from` and `to`; each answer must cover what
   * was committed when it was asked (checked by the cluster's SafetyChecker).
   */
  scheduleReads(from: number, to: number, intervalMaxMs: number, mode: "safe" | "lease"): void {
    this.#cluster.onReadState((node, index, context) => {
      const id = new DataView(context.buffer, context.byteOffset, context.byteLength).getUint32(0);
      const floor = this.#readFloor.get(id);
      if (floor === undefined) return;
      this.readsAnswered++;
      this.#cluster.checker.observeRead(node, index, floor);
    });
    for (let t = from + this.#prng.int(1, intervalMaxMs + 1); t < to; t += this.#prng.int(1, intervalMaxMs + 1)) {
      this.#cluster.at(t, () => {
        const live = this.#cluster.liveIds();
        if (live.length === 0) return;
        const id = this.#nextId++;
        const context = new Uint8Array(4);
        new DataView(context.buffer).setUint32(0, id);
        this.#readFloor.set(id, this.#cluster.committedIndex());
        this.#cluster.node(this.#prng.pick(live))!.readIndex(context, mode);
      });
    }
  }

  /** Proposes one item at `node`; returns its id. */
  proposeAt(node: NodeId): number {
    const id = this.#nextId++;
    const raw = this.#cluster.node(node);
    const result = raw?.propose(encodeProposal(id));
    this.#outcomes.set(id, result?.ok === true ? "pending" : "rejected");
    return id;
  }

  outcome(id: number): ProposalOutcome | undefined {
    return this.#outcomes.get(id);
  }

  /** The index the proposal committed at, once some node applied it. */
  indexOf(id: number): number | undefined {
    return this.#indexOf.get(id);
  }

  appliedBy(id: number): ReadonlySet<NodeId> {
    return this.#appliedBy.get(id) ?? new Set();
  }

  counts(): Record<ProposalOutcome, number> {
    const counts = { pending: 0, committed: 0, rejected: 0 };
    for (const outcome of this.#outcomes.values()) counts[outcome]++;
    return counts;
  }
}
