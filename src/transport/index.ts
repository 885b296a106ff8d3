/** The peer transport: the binary codec, framing, and the TCP transport that carries Raft messages. */
export { isClientAddress, WIRE_VERSION } from "./codec.js";
export { decodeMessage, type DecodeResult } from "./codec_decode.js";
export { encodeMessage, messageBytes } from "./codec_encode.js";
export {
  encodeFrame,
  FRAME_BYTES_MAX_DEFAULT,
  FRAME_HEADER_BYTES,
  FrameDecoder,
  type FrameDecoderOptions,
  type FramePushResult,
} from "./framing.js";
export { SNAPSHOT_CHUNK_BYTES_DEFAULT } from "./snapshot_stream.js";
export type { PeerState, PeerStatus } from "./outbound_link.js";
export type { PeerAddress } from "./peer_address.js";
export { TcpTransport, type TcpTransportOptions } from "./tcp.js";
export type { TransportStats } from "./transport_stats.js";
