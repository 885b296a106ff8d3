/**
 * raftkv/testing: the deterministic simulator as a library. It runs clusters of the real node
 * (createNode, the WAL and snapshot store on simulated disks, the codec on a simulated network, a
 * simulated clock) with the KV store, the ID allocator or your own StateMachine, under seeded
 * network, disk, clock and process faults, with Raft's safety checked after every step.
 */
export { SimCluster, type ClusterOptions, type Applied, type CrashKind, type CrashPlacement } from "./cluster.js";
export type { DiskModel } from "./disk/disk_model.js";
export type { MemberLife, MemberServices, MemberStart } from "./member_services.js";
export { ScriptedCluster, type ScriptedOptions } from "./scripted.js";
export { SafetyChecker, type Violation, type ViolationKind, type LogView } from "./checkers.js";
export { runSeed, runWithOptions, optionsFromSeed, currentLeader, type RunOptions, type RunResult } from "./vopr.js";
export { sweep } from "./sweep.js";
export { HEALTHY_NETWORK, type NetworkFaults } from "./network.js";
export { IdAllocator } from "./id_allocator.js";
export type { SimStateMachine } from "./watched_state_machine.js";
export { consoleTracer, describeMessage, type Tracer } from "./trace.js";
export type { StateMachine } from "../node/state_machine.js";
export {
  checkHistory,
  checkWatch,
  historyFromObservations,
  HistoryRecorder,
  type CheckResult,
  type History,
  type KvOp,
  type Operation,
  type Outcome,
  type RecordedWatch,
  type WatchMessage,
  type WatchViolation,
} from "../check/index.js";
// The Basic Paxos register service's linearizability check, for its real-process fault run.
export { checkRegisterHistory, type RegisterOperation } from "../paxos/basic/register_history.js";
