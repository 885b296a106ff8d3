/** Public entry of src/check: history types, the recorder, the linearizability checker, and the watch-stream checker. */
export { HistoryRecorder } from "./history.js";
export type { History, KvOp, Operation, Outcome } from "./history.js";
export { checkHistory } from "./linearizability.js";
export type { CheckResult } from "./linearizability.js";
export { checkResumedSegments, checkWatch } from "./watch_checker.js";
export { CommittedHistory, historyFromObservations } from "./watch_history.js";
export { MAX_VIOLATIONS_PER_WATCH, inWatchRange } from "./watch_stream.js";
export type {
  RecordedWatch,
  WatchEvent,
  WatchGuarantee,
  WatchMessage,
  WatchRange,
  WatchSegment,
  WatchViolation,
} from "./watch_stream.js";
