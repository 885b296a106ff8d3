import type { EngineCore, EngineTypes } from "../engine/engine.js";
import { NO_NODE, type ConfChange, type NodeId } from "../raft/index.js";
import { logIndex } from "../util/ids.js";
import { ConfChangeRefused, NodeRequestError } from "./errors.js";
import type { NodeObserver } from "./node_options.js";
import type { ForwardedProposals, PendingProposals } from "./pending.js";
import { wrapForwarded, wrapLocal } from "./proposal_envelope.js";

interface ProposerOptions {
  readonly id: NodeId;
  /** Tells this run's forwarded proposals from those of an earlier run of this member. */
  readonly epoch: number;
  readonly raw: EngineCore<EngineTypes>;
  readonly pending: PendingProposals;
  readonly forwarded: ForwardedProposals;
  readonly observer: NodeObserver | undefined;
  readonly proposalTimeoutMs: number;
  /** Wakes the Ready loop: the core has work. */
  readonly schedule: () => void;
}

/**
 * Proposals made on this member: appended here when it leads, passed to the leader otherwise (or
 * refused with the leader's name, where the engine does not forward), and each settled when this
 * member applies it (the Applier hands results to `pending`/`forwarded`).
 */
export class Proposer {
  readonly #o: ProposerOptions;

  constructor(options: ProposerOptions) {
    this.#o = options;
  }

  /** Proposals made here and not yet applied or failed. */
  get size(): number {
    return this.#o.pending.size + this.#o.forwarded.size;
  }

  /**
   * Resolves with the state machine's result once applied here. On a follower the proposal travels
   * to the leader over the peer connection; if the leader drops it, it fails as "timeout".
   */
  propose(command: Uint8Array): Promise<unknown> {
    const { raw, forwarded, observer, proposalTimeoutMs } = this.#o;
    const status = raw.status();
    if (status.role === "leader") return this.#proposeHere(command);
    if (status.leader === NO_NODE) throw new NodeRequestError({ type: "noLeader" });
    const { seq, result } = forwarded.add(proposalTimeoutMs);
    const sent = raw.propose(wrapForwarded(command, { origin: this.#o.id, epoch: this.#o.epoch, seq }));
    if (!sent.ok) forwarded.fail(seq, { type: "noLeader" });
    observer?.proposed?.(sent.ok ? "accepted" : "rejected");
    this.#o.schedule();
    return this.#settled(result);
  }

  /** Resolves once the change (or several at once) is applied here, and so in force. */
  async proposeConfChange(changes: ConfChange | readonly ConfChange[]): Promise<void> {
    const { raw, pending, proposalTimeoutMs } = this.#o;
    const result = raw.membership!.propose(changes);
    if (!result.ok) throw new ConfChangeRefused(result.error);
    this.#o.schedule();
    await this.#settled(pending.add(logIndex(result.index), raw.status().reign, proposalTimeoutMs));
  }

  #proposeHere(command: Uint8Array): Promise<unknown> {
    const { raw, pending, observer, proposalTimeoutMs } = this.#o;
    const result = raw.propose(this.#wrap(command));
    if (!result.ok || result.outcome !== "appended") {
      observer?.proposed?.("rejected");
      throw new NodeRequestError({ type: "tooBusy" });
    }
    observer?.proposed?.("accepted", result.index);
    this.#o.schedule();
    return this.#settled(pending.add(result.index, result.tag, proposalTimeoutMs));
  }

  /**
   * Raft tells its own entry at an index by its term. An engine that tags a value by its bytes
   * (Multi-Paxos: a new leader proposes a value it found again, under its own ballot) needs every
   * proposal's bytes unique, so each carries this run's (origin, epoch, seq) as a forwarded one
   * does, its seq drawn from the forwarded proposals' count so the two never share one.
   */
  #wrap(command: Uint8Array): Uint8Array {
    if (this.#o.raw.capabilities.proposalTag === "reign") return wrapLocal(command);
    return wrapForwarded(command, { origin: this.#o.id, epoch: this.#o.epoch, seq: this.#o.forwarded.reserve() });
  }

  /** Reports how a pending proposal ended to the observer, passing the outcome through. */
  #settled<T>(pending: Promise<T>): Promise<T> {
    const observer = this.#o.observer;
    if (observer?.proposalSettled === undefined) return pending;
    return pending.then(
      (value) => {
        observer.proposalSettled?.("committed");
        return value;
      },
      (error: unknown) => {
        observer.proposalSettled?.("failed");
        throw error;
      },
    );
  }
}
