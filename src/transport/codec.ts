/*
 * The peer wire format (version 2): what encoding (codec_encode.ts) and decoding (codec_decode.ts) agree on. All integers big-endian; u64 = two u32 halves holding a safe
 * integer (see util/wire.ts); bytes = u32 length + that many bytes; bool = u8 0 or 1.
 *
 *   payload      = version:u8 (2) · tag:u8 · from:u64 · to:u64 · term:u64 · body
 *   1 voteRequest            preVote:bool · lastLogIndex:u64 · lastLogTerm:u64 · transfer:bool
 *   2 voteResponse           preVote:bool · granted:bool
 *   3 appendEntries          prevLogIndex:u64 · prevLogTerm:u64 · commit:u64 · count:u32 ·
 *                            count × (term:u64 · kind:u8 (0 normal, 1 config) · data:bytes)
 *   4 appendEntriesResponse  success:bool · (1: matchIndex:u64 | 0: rejectedIndex:u64 · hintIndex:u64 · hintTerm:u64)
 *   5 heartbeat              commit:u64 · context:u64
 *   6 heartbeatResponse      context:u64
 *   7 installSnapshot        meta · data:bytes
 *   8 propose                count:u32 · count × data:bytes
 *   9 readIndexRequest       context:bytes
 *  10 readIndexResponse      context:bytes · index:u64
 * 128 snapshotChunk          (transport only, never a Message) streamId:u32 · totalBytes:u64 · offset:u64 ·
 *                            meta (only when offset = 0) · data:bytes
 * 129 hello                  (transport only, the first frame on a connection; term 0) address:bytes ·
 *                            clientAddress:bytes · [engine:bytes]: as UTF-8 of at most 260 bytes, the
 *                            "host:port" where the sender listens for its peers and the one where it serves
 *                            clients (empty if none), then the consensus engine it speaks, absent for Raft
 * 130 engine message         (another engine's message, see peer_wire.ts) version:u8 · 130 · body: the
 *                            engine's own encoding, whole (no from, to or term in this header)
 *   meta = index:u64 · term:u64 · voterCount:u32 · voters:u64… · learnerCount:u32 · learners:u64…
 *
 * An entry carries no index: entries are consecutive from prevLogIndex + 1 (the follower's
 * maybeAppend relies on it), so the encoder asserts that and the decoder derives the indexes, which
 * makes a gap or a duplicate unrepresentable on the wire. Every byte string decodes to at most one
 * message and that message re-encodes to the same bytes (the fuzz test checks this).
 *
 * Decoded byte fields (entry data, snapshot data, proposals, contexts) are views into the input, not
 * copies: the caller must not reuse or modify the input buffer afterwards, and a retained entry keeps
 * its whole input buffer alive.
 */
import { Buffer } from "node:buffer";
import type { MessageType } from "../raft/messages.js";
import type { EntryKind, SnapshotMeta } from "../raft/types.js";
import type { NodeId, Term } from "../util/ids.js";
import { U32_BYTES, U64_BYTES, U8_BYTES } from "../util/wire.js";
import { parsePeerAddress } from "./peer_address.js";

/** 2: the hello carries the sender's client address (a member of version 1 is refused with this number, not as garbage). */
export const WIRE_VERSION = 2;

/** Stable wire tags; `satisfies` makes a new Message variant a compile error until it has one. */
export const TAGS = {
  voteRequest: 1,
  voteResponse: 2,
  appendEntries: 3,
  appendEntriesResponse: 4,
  heartbeat: 5,
  heartbeatResponse: 6,
  installSnapshot: 7,
  propose: 8,
  readIndexRequest: 9,
  readIndexResponse: 10,
  timeoutNow: 11,
} as const satisfies Record<MessageType, number>;
export const SNAPSHOT_CHUNK_TAG = 128;
export const HELLO_TAG = 129;
export const ENGINE_MESSAGE_TAG = 130;
/** Longest address a hello may carry: a host name (253) and a port. */
export const HELLO_ADDRESS_BYTES_MAX = 260;

/**
 * Whether a hello may carry `text` as the sender's client address: a "host:port" of at most
 * HELLO_ADDRESS_BYTES_MAX bytes of UTF-8 without whitespace or control characters, because peers
 * forward requests to it and show it on the dashboard and in `raftkv status`. The encoder asserts
 * it and the decoder rejects a hello without it.
 */
export function isClientAddress(text: string): boolean {
  return (
    Buffer.byteLength(text, "utf8") <= HELLO_ADDRESS_BYTES_MAX &&
    !/[\s\p{Cc}]/u.test(text) &&
    parsePeerAddress(text) !== undefined
  );
}

/**
 * Whether a hello may name `text` as its sender's engine: lowercase letters and dashes, and not
 * "raft" (which a hello says by naming none, so that every hello has one encoding).
 */
export function isEngineName(text: string): boolean {
  return /^[a-z][a-z-]{0,31}$/.test(text) && text !== "raft";
}

export const ENTRY_KINDS: readonly EntryKind[] = ["normal", "config"];
export const HEADER_BYTES = U8_BYTES * 2 + U64_BYTES * 3;
export const ENTRY_BYTES_MIN = U64_BYTES + U8_BYTES + U32_BYTES;

/**
 * One piece of a streamed InstallSnapshot (transport-internal). Invariants: offset + data.length ≤
 * totalBytes; data is non-empty unless totalBytes is 0; meta is present exactly when offset is 0.
 */
export interface SnapshotChunk {
  readonly from: NodeId;
  readonly to: NodeId;
  readonly term: Term;
  /** Names the stream on its connection; a chunk at offset 0 starts a new one. */
  readonly streamId: number;
  readonly totalBytes: number;
  readonly offset: number;
  readonly meta: SnapshotMeta | undefined;
  readonly data: Uint8Array;
}

/**
 * Who opened a connection, where it listens and where it serves clients: a member that has not yet
 * learnt of the sender from the log (it was down when the sender joined) can answer it all the same,
 * and every member learns every other's client address without writing it anywhere.
 */
export interface Hello {
  readonly from: NodeId;
  /** The member the sender meant to reach. */
  readonly to: NodeId;
  readonly address: string;
  readonly clientAddress: string | undefined;
  /** The consensus engine the sender speaks; undefined for Raft. */
  readonly engine?: string | undefined;
}
