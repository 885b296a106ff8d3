export { compareBallots, ballotsEqual, ZERO_BALLOT, type Ballot } from "./ballot.js";
export type { RegisterRecord } from "./acceptor.js";
export type {
  Accept,
  AcceptedReply,
  AcceptedValue,
  Chosen,
  Message,
  Nack,
  Prepare,
  PromiseReply,
  RegisterName,
} from "./messages.js";
export type { BasicPaxosOptions, Random } from "./options.js";
export type { Outcome, RequestId, RequestResult } from "./state.js";
export { BasicPaxos, type DurableState, type Ready, type Status, type StepResult, type SubmitResult } from "./node.js";
