/** The peer transport: the binary codec, framing, and the TCP transport that carries Raft messages. */
export { isClientAddress } from "./codec.js";
export type { PeerStatus } from "./outbound_link.js";
export type { PeerAddress } from "./peer_address.js";
export { TcpTransport } from "./tcp.js";
export { decodeWireMessage, engineWire, raftWire, type PeerWire } from "./peer_wire.js";
export { zeroCounters, type TransportStats } from "./transport_stats.js";
