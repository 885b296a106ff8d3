import type { EngineEntry, EngineReady, EngineTypes } from "../engine/engine.js";
import type { NodeView } from "../node/index.js";
import type { NodeId } from "../raft/index.js";
import type { PeerWire } from "../transport/index.js";
import type { SafetyChecker } from "./checkers.js";
import type { Member } from "./member.js";

/** What an engine's checks may use of the cluster. */
export interface SimContext {
  readonly checker: SafetyChecker;
  nameOf(id: NodeId): string;
  memberOf(id: NodeId): Member | undefined;
  trace(id: NodeId | undefined, text: string): void;
  /** Whether a tracer listens (tracing only costs then). */
  readonly tracing: boolean;
}

/** Kinds of message the fault schedule places faults after, in any engine's words. */
export type MessageKind =
  /** A vote granted (Raft) or a promise made (Multi-Paxos). */
  | "vote"
  /** An acknowledgement of entries: Raft's successful append response, Multi-Paxos's Accepted. */
  | "ack"
  /** Entries sent to a follower: Raft's AppendEntries, Multi-Paxos's Accept with values. */
  | "append"
  | "timeoutNow"
  /** A heartbeat's answer (Raft's heartbeat response, Multi-Paxos's Accepted of an empty Accept). */
  | "heartbeatAck";

/**
 * One engine in the simulator: its codec on the simulated network, what the fault schedule
 * recognises in its messages, and its own safety checks, fed from the node's observer and from
 * every message sent.
 */
export interface SimEngine<E extends EngineTypes> {
  readonly wire: PeerWire<E["message"]>;
  /** Messages the network may also deliver far later, stale (SimNetwork.schedule). */
  staleable(m: E["message"]): boolean;
  is(m: E["message"], kind: MessageKind): boolean;
  /** The commit index (or chosen slot) a message tells its receiver; 0 for those that tell none. */
  commitOf(m: E["message"]): number;
  describe(m: E["message"], nameOf: (id: NodeId) => string): string;
  /** What a new life recovered; returns the index its state machine restarts from. */
  recovered(m: Member, durable: E["durable"]): number;
  readyStarted(m: Member, ready: EngineReady<E>, node: NodeView<E>): void;
  readyPersisted(m: Member, ready: EngineReady<E>): void;
  sent(m: Member, message: E["message"]): void;
  /** Entries a member applied, in order (the shared checks see them too). */
  applied(m: Member, entries: readonly EngineEntry[]): void;
  /**
   * Whether the reign (the seam's rank: Raft's term, ZAB's epoch) ended by the protocol's design
   * rather than by a fault or a leader giving up: ZAB's epoch whose zxid counter ran out. The
   * liveness check lets the next reign take over such a one without calling the leader unstable.
   * Absent for engines whose reigns end only by faults.
   */
  reignEndedByDesign?(reign: number): boolean;
}
