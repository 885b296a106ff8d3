/*
 * Coordination on a member, beyond get and put (docs/coordination.md): the watch hub and its event
 * history, the leader's compactor and the leader's lessor. Clocked like the node: time and timers
 * only through its Clock, so the simulator can run it.
 */
export type { WatchCancelReason, WatchHandle, WatchMessage, WatchRequest, WatchSink } from "./watch_messages.js";
export type { WatchRange } from "./watch_range.js";
export { watchRangeSpan } from "./watch_range.js";
export { WatchHub } from "./watch_hub.js";
export { createWatchService, type WatchService } from "./watch_service.js";
export { LeaseError } from "./lease_error.js";
export { TokenBucket } from "./token_bucket.js";
export { Lessor, lessorDefaults, minimumTtlSeconds, type LessorOptions } from "./lessor.js";
