/**
 * raftkv/testing: the deterministic simulator as a library. Run a cluster of RawNodes with your own
 * StateMachine under seeded network and disk faults, with Raft's safety checked after every step.
 */
export { SimCluster, type ClusterOptions, type DiskFaults, type ApplyListener } from "./cluster.js";
export { ScriptedCluster, type ScriptedOptions } from "./scripted.js";
export { SafetyChecker, type Violation, type ViolationKind, type LogView } from "./checkers.js";
export { runSeed, runWithOptions, optionsFromSeed, currentLeader, type RunOptions, type RunResult } from "./vopr.js";
export { HEALTHY_NETWORK, type NetworkFaults } from "./network.js";
export { IdAllocator } from "./id_allocator.js";
export { consoleTracer, describeMessage, type Tracer } from "./trace.js";
export type { StateMachine } from "../node/state_machine.js";
export {
  checkHistory,
  HistoryRecorder,
  type CheckResult,
  type History,
  type KvOp,
  type Operation,
  type Outcome,
} from "../check/index.js";
