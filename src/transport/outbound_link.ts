/*
 * The outbound half of the peer transport: one link per peer, the only connection this node sends
 * that peer anything on.
 *
 * A bounded queue of messages waits for the socket and is flushed once per turn of the event loop as
 * one corked write (one writev). While the socket holds more than `socketBufferedBytesMax` unsent
 * bytes the queue waits for 'drain'; when it is full, new messages are dropped. Messages queue while a
 * connection attempt is in progress; a connection that fails or closes drops what was queued and
 * retries after a capped exponential backoff, during which messages to that peer are dropped at once.
 * An InstallSnapshot goes out as a stream of chunk frames, one buffer's worth per drain, after
 * whatever else is queued, so heartbeats are never stuck behind it.
 */
import { connect } from "node:net";
import type { Socket } from "node:net";
import { connect as tlsConnect } from "node:tls";
import type { TlsCredentials } from "../tls/index.js";
import type { InstallSnapshot } from "../raft/messages.js";
import type { NodeId } from "../util/ids.js";
import { snapshotChunkBytes } from "./codec_encode.js";
import { helloFrame, snapshotChunkFrame } from "./framing.js";
import { formatPeerAddress, type PeerAddress } from "./peer_address.js";
import { nextChunk, type OutgoingSnapshot } from "./snapshot_stream.js";
import type { Counters } from "./transport_stats.js";
import type { PeerWire } from "./peer_wire.js";

type PeerState = "idle" | "connecting" | "connected" | "backoff" | "closed";

export interface PeerStatus {
  readonly id: NodeId;
  readonly address: PeerAddress;
  readonly state: PeerState;
  readonly queued: number;
  readonly snapshotStreaming: boolean;
}

/** The transport's limits a link works within (see TcpTransportOptions for each). */
export interface LinkLimits {
  readonly queueMax: number;
  readonly frameBytesMax: number;
  readonly snapshotChunkBytes: number;
  readonly socketBufferedBytesMax: number;
  readonly reconnectDelayMsMin: number;
  readonly reconnectDelayMsMax: number;
  readonly connectTimeoutMs: number;
  readonly keepAliveDelayMs: number;
}

/** What every link shares with the transport that owns it. */
export interface LinkContext<M> {
  readonly self: NodeId;
  readonly wire: PeerWire<M>;
  readonly limits: LinkLimits;
  readonly stats: Counters;
  readonly onWarning: (text: string) => void;
  /** Where this node listens for its peers, as the hello on each new connection tells the peer. */
  readonly helloAddress: () => PeerAddress;
  /** Where this node serves clients, told in the same hello (isClientAddress holds). */
  readonly clientAddress: string | undefined;
  /** Names a new snapshot stream. */
  readonly nextStreamId: () => number;
  /** Whether a link whose connection closed dials again: the transport runs and still sends to that peer through it. */
  readonly keepsDialling: (link: OutboundLink<M>) => boolean;
  /** Mutual TLS against the peer CA, or plain TCP when undefined. */
  readonly tls: TlsCredentials | undefined;
}

export class OutboundLink<M> {
  readonly id: NodeId;
  readonly address: PeerAddress;
  readonly #ctx: LinkContext<M>;
  #state: PeerState = "idle";
  #socket: Socket | undefined;
  #queue: M[] = [];
  #snapshot: OutgoingSnapshot | undefined;
  #flushScheduled = false;
  /** Consecutive failed attempts, for the backoff. */
  #failures = 0;
  #everConnected = false;
  #timer: NodeJS.Timeout | undefined;
  /** The last TLS failure warned about, so that redials failing alike say nothing more. */
  #tlsFailure: string | undefined;

  constructor(id: NodeId, address: PeerAddress, ctx: LinkContext<M>) {
    this.id = id;
    this.address = address;
    this.#ctx = ctx;
  }

  /** The current connection or attempt, if any: the transport awaits its closing on close(). */
  get socket(): Socket | undefined {
    return this.#socket;
  }

  status(): PeerStatus {
    return {
      id: this.id,
      address: this.address,
      state: this.#state,
      queued: this.#queue.length,
      snapshotStreaming: this.#snapshot !== undefined,
    };
  }

  /** Queues `m` for the next flush, or drops and counts it. Never throws. */
  enqueue(m: M): void {
    const stats = this.#ctx.stats;
    if (this.#state !== "connecting" && this.#state !== "connected") {
      stats.droppedPeerDown++;
      return;
    }
    const snapshot = this.#ctx.wire.snapshot(m);
    if (snapshot !== undefined) {
      if (!this.#startSnapshot(snapshot)) return;
    } else if (this.#queue.length >= this.#ctx.limits.queueMax) {
      stats.droppedQueueFull++;
      return;
    } else {
      this.#queue.push(m);
    }
    if (!this.#flushScheduled) {
      this.#flushScheduled = true;
      queueMicrotask(() => {
        this.#flushScheduled = false;
        this.#flush();
      });
    }
  }

  /** One snapshot streams to a peer at a time; the leader resends if it still needs one. */
  #startSnapshot(m: InstallSnapshot): boolean {
    if (this.#snapshot !== undefined) {
      this.#ctx.stats.droppedQueueFull++;
      return false;
    }
    this.#snapshot = { streamId: this.#ctx.nextStreamId(), message: m, offset: 0 };
    return true;
  }

  /** Writes the queue, then snapshot chunks while the socket has room, as one corked write. */
  #flush(): void {
    const socket = this.#socket;
    if (this.#state !== "connected" || socket === undefined) return; // the connect handler flushes
    if (!this.#hasRoom(socket)) return; // 'drain' flushes
    if (this.#queue.length === 0 && this.#snapshot === undefined) return;
    const batch = this.#queue;
    this.#queue = [];
    socket.cork();
    for (const m of batch) this.#writeMessage(socket, m);
    while (this.#snapshot !== undefined && this.#hasRoom(socket)) this.#writeChunk(socket, this.#snapshot);
    socket.uncork();
  }

  /**
   * Whether to write more now. Waiting is only right when a 'drain' is due (writableNeedDrain), or
   * the queue would stall with a small socketBufferedBytesMax; so the bound is overshot by at most
   * one batch, or by the stream's high-water mark.
   */
  #hasRoom(socket: Socket): boolean {
    return socket.writableLength < this.#ctx.limits.socketBufferedBytesMax || !socket.writableNeedDrain;
  }

  #writeMessage(socket: Socket, m: M): void {
    const { limits, stats, wire } = this.#ctx;
    const size = wire.payloadBytes(m);
    if (size > limits.frameBytesMax) {
      stats.droppedOversize++;
      this.#ctx.onWarning(
        `dropped a ${wire.kind(m)} to node ${wire.to(m)}: ${size} bytes exceed frameBytesMax ${limits.frameBytesMax}`,
      );
      return;
    }
    socket.write(wire.frame(m, size));
    stats.sent++;
  }

  #writeChunk(socket: Socket, s: OutgoingSnapshot): void {
    const { limits, stats } = this.#ctx;
    const { chunk, done } = nextChunk(s, limits.snapshotChunkBytes);
    if (done) this.#snapshot = undefined;
    const size = snapshotChunkBytes(chunk);
    if (size > limits.frameBytesMax) {
      // Only a configuration of thousands of members could do this; the stream cannot go on.
      this.#snapshot = undefined;
      stats.droppedOversize++;
      return;
    }
    socket.write(snapshotChunkFrame(chunk, size));
    stats.snapshotChunksSent++;
    if (done) stats.sent++;
  }

  dial(): void {
    const { limits, tls } = this.#ctx;
    this.#timer = undefined;
    const options = {
      host: this.address.host,
      port: this.address.port,
      noDelay: true,
      keepAlive: true,
      keepAliveInitialDelay: limits.keepAliveDelayMs,
    };
    // Peers are addressed by IP as often as not, and membership is what the peer CA signs: a
    // certificate that chains to it is a member, whatever address it was dialled at. So the chain
    // is checked (rejectUnauthorized) and the host name is not; the peer CA must sign members only.
    const socket =
      tls === undefined
        ? connect(options)
        : tlsConnect({ ...options, secureContext: tls.context, checkServerIdentity: () => undefined });
    this.#socket = socket;
    this.#state = "connecting";
    socket.setTimeout(limits.connectTimeoutMs, () => {
      socket.destroy(new Error(`connect timeout after ${limits.connectTimeoutMs} ms`));
    });
    socket.once(tls === undefined ? "connect" : "secureConnect", () => this.#connected(socket));
    // Peers never write on this connection; reading it lets us see their FIN at once.
    socket.on("data", () => {});
    socket.on("drain", () => this.#flush());
    socket.on("error", (error: NodeJS.ErrnoException) => this.#onError(error)); // 'close' follows and handles it
    socket.on("close", () => this.#closed(socket));
  }

  /**
   * A TLS failure (a certificate either end refused) does not heal by redialling as a peer that is
   * down does: it is worth a warning, once per reason for this link (under TLS 1.3 a refused
   * certificate shows only after the handshake seemed to succeed, so a connection is no sign of a cure).
   */
  #onError(error: NodeJS.ErrnoException): void {
    const systemError = /^E[A-Z]+$/.test(error.code ?? "");
    if (this.#ctx.tls === undefined || systemError || this.#tlsFailure === error.message) return;
    this.#tlsFailure = error.message;
    this.#ctx.onWarning(`TLS with node ${this.id} at ${formatPeerAddress(this.address)} failed: ${error.message}`);
  }

  #connected(socket: Socket): void {
    if (this.#socket !== socket) return;
    const { stats } = this.#ctx;
    socket.setTimeout(0);
    this.#state = "connected";
    this.#failures = 0;
    stats.connects++;
    if (this.#everConnected) stats.reconnects++;
    this.#everConnected = true;
    const address = formatPeerAddress(this.#ctx.helloAddress());
    const clientAddress = this.#ctx.clientAddress;
    const engine = this.#ctx.wire.engine === "raft" ? undefined : this.#ctx.wire.engine;
    socket.write(helloFrame({ from: this.#ctx.self, to: this.id, address, clientAddress, engine }));
    this.#flush();
  }

  /** Ends a backoff at once: the peer just connected to this node, so it is up again. */
  redialIfWaiting(): void {
    if (this.#state !== "backoff") return;
    clearTimeout(this.#timer);
    this.dial();
  }

  #closed(socket: Socket): void {
    if (this.#socket !== socket) return; // an older connection, already replaced
    this.#socket = undefined;
    const wasConnected = this.#state === "connected";
    if (!wasConnected) this.#ctx.stats.connectFailures++;
    this.#dropQueued();
    if (!this.#ctx.keepsDialling(this)) {
      this.#state = "closed";
      return;
    }
    if (wasConnected) this.#failures = 0;
    const { reconnectDelayMsMin: min, reconnectDelayMsMax: max } = this.#ctx.limits;
    const base = Math.min(max, min * 2 ** Math.min(this.#failures, 30));
    // Jitter keeps nodes that lost each other at once from redialling in lockstep.
    const delay = Math.max(1, Math.round(base * (0.8 + 0.4 * Math.random())));
    this.#failures++;
    this.#state = "backoff";
    this.#timer = setTimeout(() => this.dial(), delay);
    this.#timer.unref();
  }

  #dropQueued(): void {
    this.#ctx.stats.droppedPeerDown += this.#queue.length + (this.#snapshot === undefined ? 0 : 1);
    this.#queue = [];
    this.#snapshot = undefined;
  }

  /** Closes the connection and any redial for good, dropping what was queued. */
  shutdown(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#dropQueued();
    this.#state = "closed";
    const socket = this.#socket;
    this.#socket = undefined;
    socket?.destroy();
  }
}
