/**
 * Coordination on a member, beside the replicated store: the leader's lessor (docs/coordination.md).
 * Clocked like the node: time and timers only through its Clock, so the simulator can run it.
 */
export { LeaseError } from "./lease_error.js";
export { Lessor, lessorDefaults, minimumTtlSeconds, type LessorOptions } from "./lessor.js";
