/*
 * Coordination on a member, beyond get and put (docs/coordination.md): the watch hub and its event
 * history, and the leader's compactor.
 */
export type { WatchHandle, WatchMessage, WatchRequest, WatchSink } from "./watch_messages.js";
export type { WatchRange } from "./watch_range.js";
export { WatchHub } from "./watch_hub.js";
export { createWatchService, type WatchService } from "./watch_service.js";
