export { compareBallots, ballotsEqual, formatBallot, ZERO_BALLOT, type Ballot } from "./ballot.js";
export type { InstanceRecord } from "./acceptor.js";
export {
  isRegisterName,
  REGISTER_NAME_BYTES_MAX,
  VALUE_BYTES_MAX,
  type Accept,
  type AcceptedReply,
  type AcceptedValue,
  type Chosen,
  type Instance,
  type Message,
  type Nack,
  type Prepare,
  type PromiseReply,
  type RegisterName,
} from "./messages.js";
export { BASIC_PAXOS_WIRE_VERSION, decodeMessage, encodedBytes, encodeMessage, type DecodeResult } from "./codec.js";
export type { DecodeFailure, DecodeFailureKind } from "../../util/wire.js";
export type { BasicPaxosOptions, Random } from "./options.js";
export type { Outcome, RequestId, RequestResult } from "./state.js";
export {
  checkAcceptorStep,
  checkRecordStep,
  ChosenLedger,
  type BasicPaxosViolation,
  type BasicPaxosViolationKind,
} from "./safety.js";
export { BasicPaxos, type DurableState, type Ready, type Status, type StepResult, type SubmitResult } from "./node.js";
