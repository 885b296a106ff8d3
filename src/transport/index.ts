/** The peer transport: the binary codec, framing, and the TCP transport that carries Raft messages. */
export { isClientAddress } from "./codec.js";
export { decodeMessage } from "./codec_decode.js";
export { encodeMessage } from "./codec_encode.js";
export type { PeerStatus } from "./outbound_link.js";
export type { PeerAddress } from "./peer_address.js";
export { TcpTransport } from "./tcp.js";
export { zeroCounters, type TransportStats } from "./transport_stats.js";
