/** Public entry of src/check: history types, the recorder, and the linearizability checker. */
export { HistoryRecorder, describeOp, describeOperation, showValue, validateOperation } from "./history.js";
export type { CompleteOptions, History, InvokeOptions, KvOp, OpHandle, Operation, Outcome } from "./history.js";
export { checkHistory } from "./linearizability.js";
export type { CheckOk, CheckOptions, CheckResult, CheckViolation } from "./linearizability.js";
