/** Public entry of src/check: history types, the recorder, and the linearizability checker. */
export { HistoryRecorder } from "./history.js";
export type { History, KvOp, Operation, Outcome } from "./history.js";
export { checkHistory } from "./linearizability.js";
export type { CheckResult } from "./linearizability.js";
