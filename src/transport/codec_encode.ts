/* Encoding of the peer wire format described in codec.ts. */
import { Buffer } from "node:buffer";
import type { Message } from "../raft/messages.js";
import type { Entry, SnapshotMeta } from "../raft/types.js";
import { assert, assertNever } from "../util/assert.js";
import { term } from "../util/ids.js";
import type { LogIndex, NodeId, Term } from "../util/ids.js";
import { ByteWriter, U32_BYTES, U64_BYTES, U8_BYTES } from "../util/wire.js";
import {
  ENGINE_MESSAGE_TAG,
  ENTRY_BYTES_MIN,
  HEADER_BYTES,
  HELLO_ADDRESS_BYTES_MAX,
  HELLO_TAG,
  SNAPSHOT_CHUNK_TAG,
  TAGS,
  WIRE_VERSION,
  isClientAddress,
  isEngineName,
  type Hello,
  type SnapshotChunk,
} from "./codec.js";

/** The encoded size of `m` in bytes, without allocating. */
export function messageBytes(m: Message): number {
  return HEADER_BYTES + bodyBytes(m);
}

/** Encodes a message. Values outside their field (a negative index, node id 0) are programmer errors. */
export function encodeMessage(m: Message): Uint8Array {
  return encodeMessageAt(m, 0, messageBytes(m));
}

/**
 * Encodes `m` after `headroom` unwritten bytes (the frame header goes there, saving a copy).
 * `size` must be messageBytes(m). Buffer.allocUnsafe is safe here because every byte after the
 * headroom is written, which w.finish() checks.
 */
export function encodeMessageAt(m: Message, headroom: number, size: number): Uint8Array {
  const bytes = Buffer.allocUnsafe(headroom + size);
  const w = new ByteWriter(bytes, headroom);
  writeHeader(w, TAGS[m.type], m);
  writeBody(w, m);
  return w.finish(m.type);
}

export function snapshotChunkBytes(c: SnapshotChunk): number {
  const meta = c.meta === undefined ? 0 : metaBytes(c.meta);
  return HEADER_BYTES + U32_BYTES + U64_BYTES * 2 + meta + U32_BYTES + c.data.length;
}

export function encodeSnapshotChunkAt(c: SnapshotChunk, headroom: number, size: number): Uint8Array {
  assert(c.offset + c.data.length <= c.totalBytes, "snapshot chunk runs past the snapshot's end");
  assert((c.offset === 0) === (c.meta !== undefined), "snapshot meta travels with the first chunk only");
  assert(c.data.length > 0 || c.totalBytes === 0, "empty chunk of a non-empty snapshot");
  const bytes = Buffer.allocUnsafe(headroom + size);
  const w = new ByteWriter(bytes, headroom);
  writeHeader(w, SNAPSHOT_CHUNK_TAG, c);
  w.u32(c.streamId);
  w.u64(c.totalBytes);
  w.u64(c.offset);
  if (c.meta !== undefined) writeMeta(w, c.meta);
  w.bytes(c.data);
  return w.finish("snapshot chunk");
}

/**
 * Another engine's message (its own encoding, `body`) as a payload after `headroom` bytes; the
 * header names sender and recipient where every frame does, for tools that read frames (a proxy).
 */
export function encodeEngineMessageAt(e: { from: NodeId; to: NodeId }, body: Uint8Array, headroom: number): Uint8Array {
  const bytes = new Uint8Array(headroom + U8_BYTES * 2 + U64_BYTES * 2 + body.length);
  const w = new ByteWriter(bytes, headroom);
  w.u8(WIRE_VERSION);
  w.u8(ENGINE_MESSAGE_TAG);
  w.u64(e.from);
  w.u64(e.to);
  bytes.set(body, headroom + U8_BYTES * 2 + U64_BYTES * 2);
  return bytes;
}

export function helloBytes(h: Hello): number {
  const client = h.clientAddress === undefined ? 0 : Buffer.byteLength(h.clientAddress, "utf8");
  const engine = h.engine === undefined ? 0 : U32_BYTES + Buffer.byteLength(h.engine, "utf8");
  return HEADER_BYTES + U32_BYTES * 2 + Buffer.byteLength(h.address, "utf8") + client + engine;
}

export function encodeHelloAt(h: Hello, headroom: number, size: number): Uint8Array {
  const address = Buffer.from(h.address, "utf8");
  assert(address.length >= 1 && address.length <= HELLO_ADDRESS_BYTES_MAX, `hello address of ${address.length} bytes`);
  assert(h.clientAddress === undefined || isClientAddress(h.clientAddress), `hello client address ${h.clientAddress}`);
  const bytes = Buffer.allocUnsafe(headroom + size);
  const w = new ByteWriter(bytes, headroom);
  writeHeader(w, HELLO_TAG, { from: h.from, to: h.to, term: term(0) });
  w.bytes(address);
  w.bytes(Buffer.from(h.clientAddress ?? "", "utf8"));
  if (h.engine !== undefined) {
    assert(isEngineName(h.engine), `hello engine ${h.engine}`);
    w.bytes(Buffer.from(h.engine, "utf8"));
  }
  return w.finish("hello");
}

function writeHeader(w: ByteWriter, tag: number, e: { from: NodeId; to: NodeId; term: Term }): void {
  assert(e.from >= 1 && e.to >= 1, `node ids must be ≥ 1 (from ${e.from}, to ${e.to})`);
  w.u8(WIRE_VERSION);
  w.u8(tag);
  w.u64(e.from);
  w.u64(e.to);
  w.u64(e.term);
}

function bodyBytes(m: Message): number {
  switch (m.type) {
    case "voteRequest":
      return U8_BYTES * 2 + U64_BYTES * 2;
    case "voteResponse":
      return U8_BYTES * 2;
    case "appendEntries": {
      let n = U64_BYTES * 3 + U32_BYTES;
      for (const e of m.entries) n += ENTRY_BYTES_MIN + e.data.length;
      return n;
    }
    case "appendEntriesResponse":
      return U8_BYTES + (m.success ? U64_BYTES : U64_BYTES * 3);
    case "heartbeat":
      return U64_BYTES * 2;
    case "heartbeatResponse":
      return U64_BYTES;
    case "installSnapshot":
      return metaBytes(m.snapshot.meta) + U32_BYTES + m.snapshot.data.length;
    case "propose": {
      let n = U32_BYTES;
      for (const d of m.data) n += U32_BYTES + d.length;
      return n;
    }
    case "readIndexRequest":
      return U32_BYTES + m.context.length;
    case "readIndexResponse":
      return U32_BYTES + m.context.length + U64_BYTES;
    case "timeoutNow":
      return U64_BYTES;
    default:
      return assertNever(m, "message");
  }
}

function writeBody(w: ByteWriter, m: Message): void {
  switch (m.type) {
    case "voteRequest":
      w.bool(m.preVote);
      w.u64(m.lastLogIndex);
      w.u64(m.lastLogTerm);
      w.bool(m.transfer);
      return;
    case "voteResponse":
      w.bool(m.preVote);
      w.bool(m.granted);
      return;
    case "appendEntries":
      w.u64(m.prevLogIndex);
      w.u64(m.prevLogTerm);
      w.u64(m.commit);
      writeEntries(w, m.prevLogIndex, m.entries);
      return;
    case "appendEntriesResponse":
      w.bool(m.success);
      if (m.success) {
        w.u64(m.matchIndex);
      } else {
        w.u64(m.rejectedIndex);
        w.u64(m.hintIndex);
        w.u64(m.hintTerm);
      }
      return;
    case "heartbeat":
      w.u64(m.commit);
      w.u64(m.context);
      return;
    case "heartbeatResponse":
      w.u64(m.context);
      return;
    case "installSnapshot":
      writeMeta(w, m.snapshot.meta);
      w.bytes(m.snapshot.data);
      return;
    case "propose":
      w.u32(m.data.length);
      for (const d of m.data) w.bytes(d);
      return;
    case "readIndexRequest":
      w.bytes(m.context);
      return;
    case "readIndexResponse":
      w.bytes(m.context);
      w.u64(m.index);
      return;
    case "timeoutNow":
      w.u64(m.commit);
      return;
    default:
      return assertNever(m, "message");
  }
}

function writeEntries(w: ByteWriter, prevLogIndex: LogIndex, entries: readonly Entry[]): void {
  w.u32(entries.length);
  for (let k = 0; k < entries.length; k++) {
    const e = entries[k]!;
    // The wire derives indexes from prevLogIndex (see the format comment), so they must follow it.
    if (e.index !== prevLogIndex + 1 + k)
      assert(false, `entry ${k} has index ${e.index}, expected ${prevLogIndex + 1 + k}`);
    w.u64(e.term);
    w.u8(e.kind === "normal" ? 0 : 1);
    w.bytes(e.data);
  }
}

function metaBytes(meta: SnapshotMeta): number {
  return (
    U64_BYTES * 2 + U32_BYTES * 3 + U64_BYTES * (meta.voters.length + meta.votersOutgoing.length + meta.learners.length)
  );
}

function writeMeta(w: ByteWriter, meta: SnapshotMeta): void {
  w.u64(meta.index);
  w.u64(meta.term);
  writeIds(w, meta.voters);
  writeIds(w, meta.votersOutgoing);
  writeIds(w, meta.learners);
}

function writeIds(w: ByteWriter, ids: readonly NodeId[]): void {
  w.u32(ids.length);
  for (const id of ids) {
    assert(id >= 1, `node id ${id} in a configuration`);
    w.u64(id);
  }
}
