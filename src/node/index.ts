/** raftkv: the batteries-included node (durable log, TCP transport, timers) for any StateMachine. */
export {
  createNode,
  parseAddress,
  type CreateNodeOptions,
  type CreateNodeResult,
  type MemberInfo,
  type Node,
} from "./create_node.js";
export {
  ConfChangeRefused,
  EngineNode,
  type RaftNode,
  type NodeObserver,
  type RaftTuning,
  type ReadConsistency,
} from "./node.js";
export { connectTcp, type ConnectPeers, type PeerEndpoint, type PeerTransport } from "./peer_transport.js";
export { realClock } from "./real_clock.js";
export type { NodeView } from "./node_options.js";
export type { Clock, Timer } from "./clock.js";
export { AddressBook, decodeMemberContext, encodeMemberContext, type MemberAddress } from "./members.js";
export { NodeRequestError, type NodeError } from "./errors.js";
export type { StateMachine } from "./state_machine.js";
export { nodeIdOf } from "./names.js";
