/*
 * InstallSnapshot streaming. The sender splits a snapshot's data into chunks of at most
 * `chunkBytes`, each its own frame, so no frame has to hold a whole snapshot and messages queued for
 * the same peer go out between chunks. The receiver reassembles one stream per connection; chunks
 * must arrive in order (TCP keeps them so) and agree with the stream's first chunk, or the stream is
 * discarded. A stream left incomplete when its connection closes is discarded by the caller.
 */
import type { InstallSnapshot } from "../raft/messages.js";
import type { SnapshotMeta } from "../raft/types.js";
import type { NodeId, Term } from "../util/ids.js";
import type { SnapshotChunk } from "./codec.js";

/** The default chunk size: 1 MiB. */
export const SNAPSHOT_CHUNK_BYTES_DEFAULT = 1024 * 1024;

/** A snapshot being sent: how far its data has gone out. */
export interface OutgoingSnapshot {
  readonly streamId: number;
  readonly message: InstallSnapshot;
  offset: number;
}

/** Cuts the next chunk of `s` and advances it; `done` when that chunk was the last. */
export function nextChunk(s: OutgoingSnapshot, chunkBytes: number): { chunk: SnapshotChunk; done: boolean } {
  const { from, to, term, snapshot } = s.message;
  const end = Math.min(snapshot.data.length, s.offset + chunkBytes);
  const chunk: SnapshotChunk = {
    from,
    to,
    term,
    streamId: s.streamId,
    totalBytes: snapshot.data.length,
    offset: s.offset,
    meta: s.offset === 0 ? snapshot.meta : undefined,
    data: snapshot.data.subarray(s.offset, end),
  };
  s.offset = end;
  return { chunk, done: end === snapshot.data.length };
}

/**
 * What one chunk did: `complete` is the reassembled message when this chunk finished its stream;
 * `discarded` gives a reason for each stream this chunk caused to be dropped (an unfinished stream
 * it superseded, or its own stream when it was inconsistent or too big). Later chunks of a
 * discarded stream are ignored without being reported again.
 */
interface ChunkOutcome {
  readonly complete: InstallSnapshot | undefined;
  readonly discarded: readonly string[];
}

const pending: ChunkOutcome = { complete: undefined, discarded: [] };

interface Incoming {
  readonly streamId: number;
  readonly from: NodeId;
  readonly to: NodeId;
  readonly term: Term;
  readonly meta: SnapshotMeta;
  readonly totalBytes: number;
  received: number;
  /** The snapshot's own buffer, filled as chunks arrive. */
  readonly data: Uint8Array;
}

/**
 * Reassembles the snapshot streams of one connection, holding at most `snapshotBytesMax` bytes:
 * a stream that declares more is refused at its first chunk. Each chunk is copied into the
 * snapshot's own buffer as it arrives. Copying them all when the last one arrived stalled the
 * member: 1.0–1.2 s for a 1M-key snapshot (about 180 MB) on this project's test machine, long
 * enough to miss heartbeats (docs/performance.md). The buffer is allocated at the first chunk; the
 * system gives its pages only as chunks fill them.
 */
export class SnapshotReassembler {
  readonly #snapshotBytesMax: number;
  #stream: Incoming | undefined;
  /** The stream being skipped after a discard, so its remaining chunks are not counted again. */
  #skipping: number | undefined;

  constructor(snapshotBytesMax: number) {
    this.#snapshotBytesMax = snapshotBytesMax;
  }

  /** True while a stream is partly received (it is lost if the connection closes now). */
  get inProgress(): boolean {
    return this.#stream !== undefined;
  }

  accept(c: SnapshotChunk): ChunkOutcome {
    if (c.offset === 0) return this.#start(c);
    const s = this.#stream;
    if (s === undefined || s.streamId !== c.streamId) {
      if (this.#skipping === c.streamId) return pending;
      return this.#discard(c.streamId, [`chunk at offset ${c.offset} of stream ${c.streamId}, which never started`]);
    }
    if (
      c.offset !== s.received ||
      c.totalBytes !== s.totalBytes ||
      c.from !== s.from ||
      c.to !== s.to ||
      c.term !== s.term
    ) {
      this.#stream = undefined;
      const reason = `chunk at offset ${c.offset} disagrees with stream ${s.streamId} (${s.received} of ${s.totalBytes} bytes received)`;
      return this.#discard(c.streamId, [reason]);
    }
    return this.#add(s, c.data, []);
  }

  #start(c: SnapshotChunk): ChunkOutcome {
    const previous = this.#stream;
    // A new stream replacing an unfinished one means the sender gave up on that one.
    const displaced = previous === undefined ? [] : [`stream ${previous.streamId} superseded by stream ${c.streamId}`];
    this.#stream = undefined;
    if (c.totalBytes > this.#snapshotBytesMax) {
      return this.#discard(c.streamId, [
        ...displaced,
        `snapshot of ${c.totalBytes} bytes exceeds snapshotBytesMax ${this.#snapshotBytesMax}`,
      ]);
    }
    if (c.meta === undefined) return this.#discard(c.streamId, [...displaced, "first chunk without metadata"]);
    this.#skipping = undefined;
    const s: Incoming = {
      streamId: c.streamId,
      from: c.from,
      to: c.to,
      term: c.term,
      meta: c.meta,
      totalBytes: c.totalBytes,
      received: 0,
      data: new Uint8Array(c.totalBytes),
    };
    this.#stream = s;
    return this.#add(s, c.data, displaced);
  }

  #add(s: Incoming, data: Uint8Array, discarded: readonly string[]): ChunkOutcome {
    if (s.received + data.length > s.totalBytes) {
      this.#stream = undefined;
      return this.#discard(s.streamId, [
        ...discarded,
        `stream ${s.streamId} sent more than the ${s.totalBytes} bytes it declared`,
      ]);
    }
    s.data.set(data, s.received);
    s.received += data.length;
    if (s.received < s.totalBytes) return discarded.length === 0 ? pending : { complete: undefined, discarded };
    this.#stream = undefined;
    const message: InstallSnapshot = {
      type: "installSnapshot",
      from: s.from,
      to: s.to,
      term: s.term,
      snapshot: { meta: s.meta, data: s.data },
    };
    return { complete: message, discarded };
  }

  #discard(streamId: number, discarded: readonly string[]): ChunkOutcome {
    this.#skipping = streamId;
    return { complete: undefined, discarded };
  }
}
