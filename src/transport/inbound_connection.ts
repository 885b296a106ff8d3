/*
 * The inbound half of the peer transport: one connection a peer dialled, which this node only reads.
 * Frames are decoded and validated; a malformed frame or payload closes that connection only (counted
 * in decodeErrors). Snapshot chunks are reassembled per connection into the InstallSnapshot they carry.
 */
import type { Socket } from "node:net";
import type { Hello, SnapshotChunk } from "./codec.js";
import { decodePayload } from "./codec_decode.js";
import { FrameDecoder } from "./framing.js";
import { SnapshotReassembler } from "./snapshot_stream.js";
import type { Counters } from "./transport_stats.js";
import { engineMessage, ownMessage, type PeerWire } from "./peer_wire.js";

/** What every inbound connection shares with the transport that owns it. */
export interface ConnectionContext<M> {
  readonly wire: PeerWire<M>;
  readonly frameBytesMax: number;
  readonly snapshotBytesMax: number;
  readonly stats: Counters;
  readonly onWarning: (text: string) => void;
  /** Takes each message decoded or reassembled; the transport decides whether it is for this node. */
  readonly deliver: (message: M) => void;
  readonly onHello: (hello: Hello) => void;
}

export class InboundConnection<M> {
  readonly socket: Socket;
  readonly #ctx: ConnectionContext<M>;
  readonly #decoder: FrameDecoder;
  readonly #snapshots: SnapshotReassembler;
  #closed = false;

  /** Starts reading `socket`; `onClose` runs once it has closed, whoever closed it. */
  constructor(socket: Socket, ctx: ConnectionContext<M>, onClose: () => void) {
    this.socket = socket;
    this.#ctx = ctx;
    this.#decoder = new FrameDecoder({ frameBytesMax: ctx.frameBytesMax });
    this.#snapshots = new SnapshotReassembler(ctx.snapshotBytesMax);
    socket.on("data", (chunk: Buffer) => this.#onData(chunk));
    socket.on("error", () => {}); // 'close' follows
    socket.on("close", () => {
      onClose();
      if (this.#snapshots.inProgress) ctx.stats.snapshotStreamsDiscarded++;
    });
  }

  /** Closes the connection; frames already read and not yet handled are dropped. */
  destroy(): void {
    this.#closed = true;
    this.socket.destroy();
  }

  /** A delivered message may close the transport under us: read the flag again, not the narrowed value. */
  #closedMeanwhile(): boolean {
    return this.#closed;
  }

  #onData(chunk: Uint8Array): void {
    if (this.#closed) return;
    const result = this.#decoder.push(chunk);
    for (const frame of result.frames) {
      const payload = decodePayload(frame);
      if (!payload.ok) {
        this.#reject(payload.error);
        return;
      }
      const wire = this.#ctx.wire;
      if (payload.kind === "hello") {
        const engine = payload.hello.engine ?? "raft";
        if (engine !== wire.engine) {
          this.#reject(`the peer speaks the ${engine} engine, this member ${wire.engine}`);
          return;
        }
        this.#ctx.onHello(payload.hello);
      } else if (payload.kind === "snapshotChunk") {
        this.#onChunk(payload.chunk);
      } else {
        const decoded = payload.kind === "engine" ? engineMessage(wire, payload) : ownMessage(wire, payload.message);
        if (!decoded.ok) {
          this.#reject(decoded.error);
          return;
        }
        this.#ctx.deliver(decoded.message);
      }
      if (this.#closedMeanwhile()) return;
    }
    if (!result.ok) this.#reject(result.error);
  }

  #reject(error: string): void {
    this.#ctx.stats.decodeErrors++;
    const { remoteAddress, remotePort } = this.socket;
    this.#ctx.onWarning(`closing peer connection from ${remoteAddress}:${remotePort}: ${error}`);
    this.destroy();
  }

  #onChunk(chunk: SnapshotChunk): void {
    const outcome = this.#snapshots.accept(chunk);
    for (const reason of outcome.discarded) {
      this.#ctx.stats.snapshotStreamsDiscarded++;
      this.#ctx.onWarning(`discarded a snapshot stream from node ${chunk.from}: ${reason}`);
    }
    if (outcome.complete !== undefined) {
      const message = this.#ctx.wire.fromRaft(outcome.complete);
      if (message === undefined) {
        this.#reject(`a raft snapshot on a ${this.#ctx.wire.engine} connection`);
        return;
      }
      this.#ctx.stats.snapshotsReceived++;
      this.#ctx.deliver(message);
    }
  }
}
