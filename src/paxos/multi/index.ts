/** The pure, deterministic Multi-Paxos core: a replicated log of Paxos instances behind RawNode's seam. */
export {
  MultiPaxosNode,
  type AcceptorView,
  type Ready,
  type ReadIndexResult,
  type SoftState,
  type Status,
} from "./node.js";
export type { ProposeError, ProposeResult } from "./leader.js";
export type { DropReason, StepResult } from "./step_result.js";
export type { MultiPaxosStats } from "./state.js";
export { leaseTicks, type MultiPaxosOptions, type ReadMode } from "./options.js";
export type {
  Accept,
  AcceptedReply,
  CommitNotice,
  InstallSnapshot,
  Learn,
  LearnRequest,
  Message,
  MessageType,
  Nack,
  Prepare,
  PromiseReply,
  ReadIndexRequest,
  ReadIndexResponse,
  SlotValue,
} from "./messages.js";
export { sendsBeforePersist } from "./messages.js";
export {
  decodePaxosMessage,
  encodePaxosMessage,
  paxosMessageBytes,
  PAXOS_WIRE_VERSION,
  type PaxosDecodeResult,
} from "./codec.js";
export {
  compareBallots,
  formatBallot,
  maxBallot,
  NOOP,
  sameBallot,
  ZERO_BALLOT,
  type AcceptedRecord,
  type Ballot,
  type ChosenEntry,
  type CommittedEntry,
  type DurableState,
  type HardState,
  type Random,
  type ReadState,
  type Role,
  type Slot,
  type Snapshot,
  type Value,
  type ValueKind,
} from "./types.js";
export {
  AppliedHistory,
  checkAcceptorStep,
  ChosenRegistry,
  copyAcceptorView,
  isPrefixOf,
  sameValue,
  type PaxosViolation,
  type PaxosViolationKind,
} from "./safety.js";
