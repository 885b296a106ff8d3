/*
 * How one consensus engine's messages travel on the shared framing: Raft's with the codec of
 * codec.ts (and its snapshots streamed in chunks), any other engine's whole in an engine-message
 * frame (tag 130) holding the engine's own encoding. The hello names the engine, so a member that
 * speaks another one is refused at connect instead of mis-decoded.
 */
import type { InstallSnapshot, Message } from "../raft/messages.js";
import type { NodeId } from "../util/ids.js";
import { decodePayload } from "./codec_decode.js";
import { encodeEngineMessageAt, encodeMessage, messageBytes } from "./codec_encode.js";
import { encodeFrame, messageFrame } from "./framing.js";

export interface PeerWire<M> {
  /** The engine's name; the hello carries it (none for Raft). */
  readonly engine: string;
  from(m: M): NodeId;
  to(m: M): NodeId;
  /** The message's kind, for warnings. */
  kind(m: M): string;
  /** The payload's size, checked against frameBytesMax before the frame is built. */
  payloadBytes(m: M): number;
  frame(m: M, payloadBytes: number): Uint8Array;
  /** The payload alone (the simulator carries payloads, not frames). */
  encode(m: M): Uint8Array;
  /** A Raft snapshot, streamed in chunks behind other traffic; undefined for every other message. */
  snapshot(m: M): InstallSnapshot | undefined;
  /** A Raft message (or reassembled snapshot) decoded from a frame, as this engine's; undefined if foreign. */
  fromRaft(m: Message): M | undefined;
  /** An engine-message frame's body, decoded (with the engine codec's validation). */
  decodeEngine(body: Uint8Array): { ok: true; message: M } | { ok: false; error: string };
}

/** Raft's messages on the wire: the codec of codec.ts, nothing in engine-message frames. */
export const raftWire: PeerWire<Message> = {
  engine: "raft",
  from: (m) => m.from,
  to: (m) => m.to,
  kind: (m) => m.type,
  payloadBytes: (m) => messageBytes(m),
  frame: (m, payloadBytes) => messageFrame(m, payloadBytes),
  encode: (m) => encodeMessage(m),
  snapshot: (m) => (m.type === "installSnapshot" ? m : undefined),
  fromRaft: (m) => m,
  decodeEngine: () => ({ ok: false, error: "tag: an engine message on a raft connection" }),
};

/** Another engine's codec: its messages encoded whole, with their sender and recipient inside. */
export interface EngineCodec<M> {
  readonly engine: string;
  from(m: M): NodeId;
  to(m: M): NodeId;
  kind(m: M): string;
  encode(m: M): Uint8Array;
  decode(bytes: Uint8Array): { ok: true; message: M } | { ok: false; error: string };
}

/** An engine's messages in engine-message frames; a Raft frame on its connections is foreign. */
export function engineWire<M>(codec: EngineCodec<M>): PeerWire<M> {
  // Encoded once for the size check and the frame (a link asks for both in turn).
  let last: { readonly m: M; readonly bytes: Uint8Array } | undefined;
  const encoded = (m: M): Uint8Array => {
    if (last?.m !== m)
      last = { m, bytes: encodeEngineMessageAt({ from: codec.from(m), to: codec.to(m) }, codec.encode(m), 0) };
    return last.bytes;
  };
  return {
    engine: codec.engine,
    from: (m) => codec.from(m),
    to: (m) => codec.to(m),
    kind: (m) => codec.kind(m),
    payloadBytes: (m) => encoded(m).length,
    frame: (m) => encodeFrame(encoded(m)),
    encode: (m) => encoded(m),
    snapshot: () => undefined,
    fromRaft: () => undefined,
    decodeEngine: (body) => codec.decode(body),
  };
}

/** A payload holding one of `wire`'s messages, decoded; a hello, a chunk or a foreign message is an error. */
export function decodeWireMessage<M>(
  wire: PeerWire<M>,
  payload: Uint8Array,
): { ok: true; message: M } | { ok: false; error: string } {
  const decoded = decodePayload(payload);
  if (!decoded.ok) return decoded;
  if (decoded.kind === "engine") return engineMessage(wire, decoded);
  if (decoded.kind !== "message") return { ok: false, error: `tag: a ${decoded.kind} is not a message` };
  return ownMessage(wire, decoded.message);
}

/** A Raft message decoded from a frame, if `wire` is Raft's. */
export function ownMessage<M>(wire: PeerWire<M>, m: Message): { ok: true; message: M } | { ok: false; error: string } {
  const message = wire.fromRaft(m);
  return message === undefined
    ? { ok: false, error: `tag: a raft message on a ${wire.engine} connection` }
    : { ok: true, message };
}

/** An engine-message frame decoded: its body by the engine's codec, which must name the header's sender and recipient. */
export function engineMessage<M>(
  wire: PeerWire<M>,
  frame: { readonly from: NodeId; readonly to: NodeId; readonly body: Uint8Array },
): { ok: true; message: M } | { ok: false; error: string } {
  const decoded = wire.decodeEngine(frame.body);
  if (!decoded.ok) return decoded;
  if (wire.from(decoded.message) !== frame.from || wire.to(decoded.message) !== frame.to)
    return { ok: false, error: "from: the frame's sender or recipient is not its message's" };
  return decoded;
}
