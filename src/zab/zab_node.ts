import { assert, assertNever } from "../util/assert.js";
import { NO_NODE, type NodeId } from "../util/ids.js";
import { decideIfQuorum, stepLooking, tickLooking } from "./election.js";
import { owesAcks, sendOwedAcks, stepFollowing, tickFollowing } from "./follower.js";
import type { HistoryWrite } from "./history.js";
import { checkInvariants } from "./invariants.js";
import {
  flushLeader,
  hasLeaderWork,
  leaderProgress,
  proposeAsLeader,
  startRead,
  stepLeading,
  tickLeading,
  type ProposeResult,
} from "./leader.js";
import type { ZabMessage } from "./messages.js";
import type { ZabOptions } from "./options.js";
import { ZabState, type Epochs, type ZabStats } from "./state.js";
import {
  epoch,
  type DurableState,
  type Epoch,
  type HistoryEntry,
  type Phase,
  type ReadState,
  type Role,
  type Zxid,
} from "./types.js";

/** Volatile facts about a member, for the application and for checkers; never persisted. */
export interface ZabSoftState {
  readonly role: Role;
  readonly phase: Phase;
  /** The leader followed or being, NO_NODE while looking. */
  readonly leader: NodeId;
  /** The epoch led or followed; 0 until discovery has named it. */
  readonly epoch: Epoch;
}

/**
 * The work a member asks its driver to do, in this order:
 * 1. persist, with one durability barrier when `mustSync`: the history write (drop stored entries
 *    after `history.truncateAfter`, then append `history.entries`), then `epochs` if present —
 *    the history before the epochs, so a torn write never pairs a new currentEpoch with an old history;
 * 2. send `messagesAfterPersist` (ACKEPOCH and Ack promise what step 1 made durable); `messages`
 *    may be sent at once, even before step 1;
 * 3. apply `committedEntries` in order (index = position in the delivered sequence, the same on
 *    every member) and serve each of `readStates` once applied through its index;
 * 4. call `advance(ready)`. Several Readies may be in flight if they are persisted and advanced in order.
 */
export interface ZabReady {
  readonly softState: ZabSoftState;
  readonly epochs: Epochs | undefined;
  readonly history: HistoryWrite;
  /** True whenever anything is to be written: every piece of ZAB's durable state is a promise. */
  readonly mustSync: boolean;
  readonly messages: readonly ZabMessage[];
  readonly messagesAfterPersist: readonly ZabMessage[];
  readonly committedEntries: readonly HistoryEntry[];
  readonly readStates: readonly ReadState[];
}

export type SyncResult = { readonly ok: true } | { readonly ok: false; readonly error: "noLeader" };

/** A message not acted on (stale, unexpected in this role or phase, or not for us): counted, never thrown. */
export type ZabStepResult = { readonly ok: true } | { readonly ok: false; readonly reason: "malformed" | "ignored" };

export interface ZabStatus extends ZabSoftState {
  readonly id: NodeId;
  readonly acceptedEpoch: Epoch;
  readonly currentEpoch: Epoch;
  readonly lastZxid: Zxid;
  readonly committedZxid: Zxid;
  readonly committedIndex: number;
  readonly appliedIndex: number;
  readonly lastIndex: number;
  readonly round: number;
  readonly stats: Readonly<ZabStats>;
}

/**
 * The public face of the pure ZAB core, shaped like raft's RawNode: drive it with tick, step,
 * propose and sync, collect its work with ready(), acknowledge with advance(). It performs no I/O
 * and reads no clock; its only randomness is the injected generator. A member starts (and
 * restarts, from the durable state it asked to persist) looking for a leader.
 */
export class ZabNode {
  readonly #z: ZabState;
  readonly #inFlight: ZabReady[] = [];

  constructor(options: ZabOptions, durable?: DurableState) {
    this.#z = new ZabState(options, durable);
    this.#z.becomeLooking();
    this.#afterInput();
  }

  get id(): NodeId {
    return this.#z.id;
  }

  tick(): void {
    const z = this.#z;
    const s = z.state;
    switch (s.role) {
      case "looking":
        tickLooking(z, s);
        break;
      case "following":
        tickFollowing(z, s);
        break;
      case "leading":
        tickLeading(z, s);
        break;
      default:
        assertNever(s, "role state");
    }
    this.#afterInput();
  }

  step(m: ZabMessage): ZabStepResult {
    const z = this.#z;
    const forged = m.type === "notification" && m.vote.leader !== z.id && !z.isMember(m.vote.leader);
    if (m.to !== z.id || !z.isMember(m.from) || forged) {
      z.stats.messagesDropped++;
      return { ok: false, reason: "malformed" };
    }
    const s = z.state;
    let handled: boolean;
    if (s.role === "looking") {
      handled = m.type === "notification";
      if (m.type === "notification") stepLooking(z, s, m);
    } else if (s.role === "following") {
      handled = stepFollowing(z, s, m);
    } else {
      handled = stepLeading(z, s, m);
    }
    if (!handled) z.stats.messagesDropped++;
    this.#afterInput();
    return handled ? { ok: true } : { ok: false, reason: "ignored" };
  }

  /** Proposes a transaction: only an established leader in broadcast takes it; others say who leads. */
  propose(data: Uint8Array): ProposeResult {
    const z = this.#z;
    const s = z.state;
    if (s.role !== "leading") {
      const leader = s.role === "following" && s.phase === "broadcast" ? s.leader : NO_NODE;
      return { ok: false, error: "notLeader", leader };
    }
    const result = proposeAsLeader(z, s, data);
    this.#afterInput();
    return result;
  }

  /**
   * Passes a transaction to the leader this follower follows in broadcast, which proposes it if it
   * still leads (a leader proposes its own with `propose`). Nothing reports whether the leader took
   * it: the follower learns the outcome only by delivering it, so its bytes should be unique.
   */
  forward(data: Uint8Array): { readonly ok: true } | { readonly ok: false; readonly error: "noLeader" | "leading" } {
    const z = this.#z;
    const s = z.state;
    if (s.role === "leading") return { ok: false, error: "leading" };
    if (s.role !== "following" || s.phase !== "broadcast") return { ok: false, error: "noLeader" };
    z.send({ type: "forward", from: z.id, to: s.leader, data });
    this.#afterInput();
    return { ok: true };
  }

  /**
   * ZooKeeper's `sync` for a linearizable read (its plain reads are served from the member's own
   * state and may be stale): a ReadState with `context` appears in a later Ready once the leader
   * has confirmed with a quorum that it still leads; read after applying through its index.
   */
  sync(context: Uint8Array): SyncResult {
    const z = this.#z;
    const s = z.state;
    if (s.role === "leading" && s.phase === "broadcast") startRead(z, s, context, z.id);
    else if (s.role === "following" && s.phase === "broadcast") {
      z.send({ type: "syncRequest", from: z.id, to: s.leader, context });
    } else return { ok: false, error: "noLeader" };
    this.#afterInput();
    return { ok: true };
  }

  hasReady(): boolean {
    const z = this.#z;
    const s = z.state;
    return (
      z.messages.length > 0 ||
      z.messagesAfterPersist.length > 0 ||
      z.readStates.length > 0 ||
      z.committed > z.applied ||
      z.history.hasUnwritten() ||
      !sameEpochs(z.writtenEpochs, currentEpochs(z)) ||
      (s.role === "leading" && hasLeaderWork(z, s)) ||
      (s.role === "following" && owesAcks(s))
    );
  }

  ready(): ZabReady {
    const z = this.#z;
    const s = z.state;
    if (s.role === "leading") flushLeader(z, s);
    if (s.role === "following") sendOwedAcks(z, s);
    const through = Math.min(z.committed, z.applied + z.options.applyEntriesMax);
    const committedEntries = z.history.slice(z.applied + 1, through);
    z.applied = Math.max(z.applied, through);
    const history = z.history.takeWrite();
    const epochs = currentEpochs(z);
    const epochsChanged = !sameEpochs(epochs, z.writtenEpochs);
    z.writtenEpochs = epochs;
    z.pendingEpochs.push(epochs);
    const ready: ZabReady = {
      softState: softState(z),
      epochs: epochsChanged ? epochs : undefined,
      history,
      mustSync: epochsChanged || history.truncateAfter !== undefined || history.entries.length > 0,
      messages: z.messages,
      messagesAfterPersist: z.messagesAfterPersist,
      committedEntries,
      readStates: z.readStates,
    };
    z.messages = [];
    z.messagesAfterPersist = [];
    z.readStates = [];
    this.#inFlight.push(ready);
    return ready;
  }

  /**
   * The messages that may leave before anything is persisted, taken now without the rest of a
   * Ready: a driver still persisting earlier Readies sends proposals and heartbeats without waiting.
   */
  takeMessages(): ZabMessage[] {
    const z = this.#z;
    if (z.state.role === "leading") flushLeader(z, z.state);
    const messages = z.messages;
    z.messages = [];
    return messages;
  }

  /** The oldest Ready in flight is persisted and its committed entries applied. */
  advance(ready: ZabReady): void {
    const z = this.#z;
    assert(this.#inFlight.shift() === ready, "advance() takes the Readies in the order ready() gave them");
    z.history.persisted();
    const durable = z.pendingEpochs.shift();
    assert(durable !== undefined, "epochs of a Ready in flight");
    z.durableEpochs = durable;
    this.#afterInput();
  }

  /** Role, phase, leader and epoch, without building the whole status (checkers call it every step). */
  softState(): ZabSoftState {
    return softState(this.#z);
  }

  status(): ZabStatus {
    const z = this.#z;
    const soft = softState(z);
    // Fields are listed, not spread: an object spread with more properties after it is a slow path in V8.
    return {
      role: soft.role,
      phase: soft.phase,
      leader: soft.leader,
      epoch: soft.epoch,
      id: z.id,
      acceptedEpoch: z.acceptedEpoch,
      currentEpoch: z.currentEpoch,
      lastZxid: z.history.lastZxid(),
      committedZxid: z.history.zxidAt(z.committed),
      committedIndex: z.committed,
      appliedIndex: z.applied,
      lastIndex: z.history.length,
      round: z.round,
      stats: { messagesDropped: z.stats.messagesDropped, leaderChanges: z.stats.leaderChanges },
    };
  }

  /** Read-only access for checkers: this member's history entry at `index`, if it holds one. */
  historyEntry(index: number): HistoryEntry | undefined {
    return this.#z.history.entry(index);
  }

  #afterInput(): void {
    const z = this.#z;
    // A lone member needs no one's vote, so it need not wait for a tick either.
    if (z.state.role === "looking" && z.quorum === 1) decideIfQuorum(z, z.state);
    if (z.state.role === "leading") leaderProgress(z, z.state);
    if (z.options.checkInvariants) checkInvariants(z);
  }
}

function softState(z: ZabState): ZabSoftState {
  const s = z.state;
  switch (s.role) {
    case "looking":
      return { role: s.role, phase: "election", leader: NO_NODE, epoch: epoch(0) };
    case "following":
      return { role: s.role, phase: s.phase, leader: s.leader, epoch: s.epoch };
    case "leading":
      return { role: s.role, phase: s.phase, leader: z.id, epoch: s.epoch };
    default:
      return assertNever(s, "role state");
  }
}

function currentEpochs(z: ZabState): Epochs {
  return { acceptedEpoch: z.acceptedEpoch, currentEpoch: z.currentEpoch };
}

function sameEpochs(a: Epochs, b: Epochs): boolean {
  return a.acceptedEpoch === b.acceptedEpoch && a.currentEpoch === b.currentEpoch;
}
