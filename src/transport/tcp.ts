/*
 * Peer transport over TCP. Each node dials one outbound connection per peer and sends only on it;
 * it receives on the connections its peers dialled. A send never blocks and never throws: a message
 * that cannot go out soon is dropped and counted, because Raft retries everything it sends.
 *
 * Outbound, per peer: a bounded queue of messages waiting for the socket, flushed once per turn of
 * the event loop as one corked write (one writev). While the socket holds more than
 * `socketBufferedBytesMax` unsent bytes the queue waits for 'drain'; when it is full, new messages
 * are dropped. Messages queue while a connection attempt is in progress; a connection that fails or
 * closes drops what was queued and retries after a capped exponential backoff, during which messages
 * to that peer are dropped at once. An InstallSnapshot goes out as a stream of chunk frames, one
 * buffer's worth per drain, after whatever else is queued, so heartbeats are never stuck behind it.
 *
 * Inbound, per connection: frames are decoded and validated; a malformed frame or payload closes that
 * connection only (counted in decodeErrors). Messages addressed to another node are dropped.
 */
import { createServer, connect } from "node:net";
import type { Server, Socket } from "node:net";
import type { InstallSnapshot, Message } from "../raft/messages.js";
import { assert } from "../util/assert.js";
import type { NodeId } from "../util/ids.js";
import { decodePayload, messageBytes, snapshotChunkBytes, type Hello } from "./codec.js";
import type { SnapshotChunk } from "./codec.js";
import { FRAME_BYTES_MAX_DEFAULT, FrameDecoder, helloFrame, messageFrame, snapshotChunkFrame } from "./framing.js";
import { SNAPSHOT_CHUNK_BYTES_DEFAULT, SnapshotReassembler, nextChunk } from "./snapshot_stream.js";
import type { OutgoingSnapshot } from "./snapshot_stream.js";

export interface PeerAddress {
  readonly host: string;
  /** 0–65535; 0 only for `listen`, meaning "any free port" (see listenAddress()). */
  readonly port: number;
}

export interface TcpTransportOptions {
  /** This node; inbound messages addressed to anyone else are dropped. */
  readonly id: NodeId;
  readonly listen: PeerAddress;
  /**
   * Where the others reach this node, told to each peer when it connects (the listen address by
   * default): a peer that has not learnt of this node can answer it all the same.
   */
  readonly advertise?: PeerAddress;
  /** The other members (never this node). Changed later with setPeer/removePeer. */
  readonly peers: ReadonlyMap<NodeId, PeerAddress>;
  /**
   * Called synchronously for each valid message addressed to this node, in arrival order per
   * connection. It must not throw (an exception there is a bug and propagates out of the socket's
   * event handler); a message sent after an InstallSnapshot may arrive before the snapshot completes.
   */
  readonly onMessage: (message: Message) => void;
  /** Operational problems worth a log line (a peer sent garbage, a snapshot stream was discarded). */
  readonly onWarning?: (text: string) => void;
  /** Messages per peer waiting for its socket; beyond it new messages are dropped. Default 1024. */
  readonly queueMax?: number;
  /** Largest frame payload sent or accepted. Default 64 MiB. */
  readonly frameBytesMax?: number;
  /** Snapshot data per chunk frame. Default 1 MiB, or half of frameBytesMax if that is smaller. */
  readonly snapshotChunkBytes?: number;
  /** Largest snapshot accepted from a peer (the reassembly bound per connection). Default 1 GiB. */
  readonly snapshotBytesMax?: number;
  /** Unsent bytes a socket may hold before the queue waits for 'drain'. Default 1 MiB. */
  readonly socketBufferedBytesMax?: number;
  /** First reconnect delay; doubles per failed attempt up to reconnectDelayMsMax. Defaults 50 and 1000. */
  readonly reconnectDelayMsMin?: number;
  readonly reconnectDelayMsMax?: number;
  /** A connection attempt not established by then fails. Default 3000. */
  readonly connectTimeoutMs?: number;
}

/**
 * Counters since construction. Every message handed to send() is counted once, in `sent` or one of
 * the `dropped…` counters, unless it is still queued (see peers()).
 */
export interface TransportStats {
  /** Messages written to a socket (a streamed snapshot counts once, when its last chunk is written). */
  readonly sent: number;
  /** Valid messages for this node handed to onMessage. */
  readonly received: number;
  /** Dropped because the peer's queue was full (or, for a snapshot, one was already streaming to it). */
  readonly droppedQueueFull: number;
  /** Dropped because the peer was unreachable: in backoff, or the connection failed or closed with them queued. */
  readonly droppedPeerDown: number;
  /** Dropped because the recipient is not a known peer (or is this node). */
  readonly droppedUnknownPeer: number;
  /** Dropped because the encoding exceeds frameBytesMax. */
  readonly droppedOversize: number;
  /** Inbound messages (or snapshot streams) addressed to another node. */
  readonly droppedMisaddressed: number;
  /** Inbound frames or payloads rejected; each closed the connection it came on. */
  readonly decodeErrors: number;
  /** Outbound connections established, and those among them that replaced an earlier one to the same peer. */
  readonly connects: number;
  readonly reconnects: number;
  /** Outbound attempts that failed before connecting. */
  readonly connectFailures: number;
  readonly accepted: number;
  readonly snapshotChunksSent: number;
  readonly snapshotsReceived: number;
  /** Inbound snapshot streams dropped: inconsistent, too big, superseded, or cut off by a closed connection. */
  readonly snapshotStreamsDiscarded: number;
}

export type PeerState = "idle" | "connecting" | "connected" | "backoff" | "closed";

export interface PeerStatus {
  readonly id: NodeId;
  readonly address: PeerAddress;
  readonly state: PeerState;
  readonly queued: number;
  readonly snapshotStreaming: boolean;
}

type Counters = { -readonly [K in keyof TransportStats]: number };

interface Outbound {
  readonly id: NodeId;
  readonly address: PeerAddress;
  state: PeerState;
  socket: Socket | undefined;
  queue: Message[];
  snapshot: OutgoingSnapshot | undefined;
  flushScheduled: boolean;
  /** Consecutive failed attempts, for the backoff. */
  failures: number;
  everConnected: boolean;
  timer: NodeJS.Timeout | undefined;
}

interface Inbound {
  readonly socket: Socket;
  readonly decoder: FrameDecoder;
  readonly snapshots: SnapshotReassembler;
  closed: boolean;
}

const defaults = {
  queueMax: 1024,
  snapshotBytesMax: 1024 * 1024 * 1024,
  socketBufferedBytesMax: 1024 * 1024,
  reconnectDelayMsMin: 50,
  reconnectDelayMsMax: 1000,
  connectTimeoutMs: 3000,
} as const;
const keepAliveDelayMs = 5000;
/** Largest stream id before wrapping (the field is a u32). */
const streamIdMax = 0xffff_ffff;

export class TcpTransport {
  readonly #id: NodeId;
  readonly #listen: PeerAddress;
  readonly #onMessage: (message: Message) => void;
  readonly #onWarning: (text: string) => void;
  readonly #limits: {
    readonly queueMax: number;
    readonly frameBytesMax: number;
    readonly snapshotChunkBytes: number;
    readonly snapshotBytesMax: number;
    readonly socketBufferedBytesMax: number;
    readonly reconnectDelayMsMin: number;
    readonly reconnectDelayMsMax: number;
    readonly connectTimeoutMs: number;
  };
  readonly #peers = new Map<NodeId, Outbound>();
  readonly #advertise: PeerAddress | undefined;
  /** Where nodes that are not (yet) peers said they listen, when they connected: replies go there. */
  readonly #learned = new Map<NodeId, PeerAddress>();
  readonly #inbound = new Set<Inbound>();
  readonly #stats: Counters = {
    sent: 0,
    received: 0,
    droppedQueueFull: 0,
    droppedPeerDown: 0,
    droppedUnknownPeer: 0,
    droppedOversize: 0,
    droppedMisaddressed: 0,
    decodeErrors: 0,
    connects: 0,
    reconnects: 0,
    connectFailures: 0,
    accepted: 0,
    snapshotChunksSent: 0,
    snapshotsReceived: 0,
    snapshotStreamsDiscarded: 0,
  };
  #server: Server | undefined;
  #state: "new" | "starting" | "running" | "closed" = "new";
  #starting: Promise<void> | undefined;
  #closing: Promise<void> | undefined;
  #streamIdLast = 0;

  constructor(options: TcpTransportOptions) {
    assert(options.id >= 1, `node id ${options.id}`);
    checkAddress(options.listen, "listen");
    this.#id = options.id;
    this.#listen = options.listen;
    this.#advertise = options.advertise;
    this.#onMessage = options.onMessage;
    this.#onWarning = options.onWarning ?? (() => {});
    const frameBytesMax = options.frameBytesMax ?? FRAME_BYTES_MAX_DEFAULT;
    this.#limits = {
      queueMax: options.queueMax ?? defaults.queueMax,
      frameBytesMax,
      snapshotChunkBytes:
        options.snapshotChunkBytes ?? Math.min(SNAPSHOT_CHUNK_BYTES_DEFAULT, Math.floor(frameBytesMax / 2)),
      snapshotBytesMax: options.snapshotBytesMax ?? defaults.snapshotBytesMax,
      socketBufferedBytesMax: options.socketBufferedBytesMax ?? defaults.socketBufferedBytesMax,
      reconnectDelayMsMin: options.reconnectDelayMsMin ?? defaults.reconnectDelayMsMin,
      reconnectDelayMsMax: options.reconnectDelayMsMax ?? defaults.reconnectDelayMsMax,
      connectTimeoutMs: options.connectTimeoutMs ?? defaults.connectTimeoutMs,
    };
    const l = this.#limits;
    assert(l.queueMax >= 1 && l.snapshotChunkBytes >= 1 && l.socketBufferedBytesMax >= 1, "limits must be ≥ 1");
    // A chunk frame holds the chunk plus its header and, on the first chunk, the configuration.
    assert(l.snapshotChunkBytes + 4096 <= l.frameBytesMax, "snapshotChunkBytes must leave room in frameBytesMax");
    assert(l.reconnectDelayMsMin >= 1 && l.reconnectDelayMsMin <= l.reconnectDelayMsMax, "reconnect delays");
    for (const [id, address] of options.peers) this.#addPeer(id, address);
  }

  /**
   * Listens, then dials every peer. Rejects with a one-line reason when the address cannot be bound
   * ("port 127.0.0.1:7001 is in use"); the transport is then closed.
   */
  start(): Promise<void> {
    assert(this.#state === "new", "start() called twice or after close()");
    this.#state = "starting";
    this.#starting = this.#listenAndDial();
    return this.#starting;
  }

  async #listenAndDial(): Promise<void> {
    const server = createServer({ noDelay: true }, (socket) => this.#accept(socket));
    this.#server = server;
    try {
      await new Promise<void>((resolve, reject) => {
        server.once("error", reject);
        server.listen({ host: this.#listen.host, port: this.#listen.port }, () => {
          server.off("error", reject);
          resolve();
        });
      });
    } catch (error) {
      this.#server = undefined;
      if (this.#state === "starting") this.#state = "closed";
      throw listenError(this.#listen, error);
    }
    server.on("error", (error) => this.#onWarning(`peer listener: ${error.message}`));
    if (this.#state !== "starting") return; // close() came first; it closes the server
    this.#state = "running";
    for (const p of this.#peers.values()) this.#dial(p);
  }

  /** The bound address (the real port when `listen.port` was 0). Only after start() resolved. */
  listenAddress(): PeerAddress {
    const bound = this.#server?.address();
    assert(bound !== undefined && bound !== null && typeof bound === "object", "listenAddress() before start()");
    return { host: bound.address, port: bound.port };
  }

  /**
   * Queues messages for their recipients; everything queued for one peer in this turn of the event
   * loop goes out in one write. Never throws, never blocks: undeliverable messages are counted
   * (including everything sent before start() or after close()).
   */
  send(messages: readonly Message[]): void {
    for (const m of messages) this.#enqueue(m);
  }

  /** Adds a peer or moves it to a new address (its connection is then re-dialled). */
  setPeer(id: NodeId, address: PeerAddress): void {
    const existing = this.#peers.get(id);
    if (existing !== undefined) {
      if (existing.address.host === address.host && existing.address.port === address.port) return;
      this.#shutdownPeer(existing);
      this.#peers.delete(id);
    }
    const p = this.#addPeer(id, address);
    if (this.#state === "running") this.#dial(p);
  }

  /** Forgets a peer: its connection closes and what was queued for it is dropped. */
  removePeer(id: NodeId): void {
    this.#learned.delete(id);
    const p = this.#peers.get(id);
    if (p === undefined) return;
    this.#peers.delete(id);
    this.#shutdownPeer(p);
  }

  stats(): TransportStats {
    return { ...this.#stats };
  }

  peers(): PeerStatus[] {
    return [...this.#peers.values()].map((p) => ({
      id: p.id,
      address: p.address,
      state: p.state,
      queued: p.queue.length,
      snapshotStreaming: p.snapshot !== undefined,
    }));
  }

  /**
   * Stops listening, closes every connection and timer, and drops whatever is queued. Resolves when
   * every socket and the listener have closed, so nothing keeps the process alive. Idempotent.
   */
  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  async #close(): Promise<void> {
    const wasStarting = this.#state === "starting";
    this.#state = "closed";
    if (wasStarting) await this.#starting?.catch(() => {});
    const closed: Promise<void>[] = [];
    for (const p of this.#peers.values()) {
      if (p.socket !== undefined) closed.push(whenClosed(p.socket));
      this.#shutdownPeer(p);
    }
    for (const conn of this.#inbound) {
      closed.push(whenClosed(conn.socket));
      conn.closed = true;
      conn.socket.destroy();
    }
    const server = this.#server;
    if (server?.listening === true) closed.push(new Promise((resolve) => server.close(() => resolve())));
    await Promise.all(closed);
  }

  // ---- outbound ---------------------------------------------------------------------------------

  #addPeer(id: NodeId, address: PeerAddress): Outbound {
    assert(id >= 1 && id !== this.#id, `peer id ${id} (this node is ${this.#id})`);
    checkAddress(address, `peer ${id}`);
    assert(address.port !== 0, `peer ${id}: port 0 can only be listened on`);
    const p: Outbound = {
      id,
      address,
      state: "idle",
      socket: undefined,
      queue: [],
      snapshot: undefined,
      flushScheduled: false,
      failures: 0,
      everConnected: false,
      timer: undefined,
    };
    this.#peers.set(id, p);
    return p;
  }

  #enqueue(m: Message): void {
    const p = m.to === this.#id ? undefined : (this.#peers.get(m.to) ?? this.#adoptLearned(m.to));
    if (p === undefined) {
      this.#stats.droppedUnknownPeer++;
      return;
    }
    if (p.state !== "connecting" && p.state !== "connected") {
      this.#stats.droppedPeerDown++;
      return;
    }
    if (m.type === "installSnapshot") {
      if (!this.#startSnapshot(p, m)) return;
    } else if (p.queue.length >= this.#limits.queueMax) {
      this.#stats.droppedQueueFull++;
      return;
    } else {
      p.queue.push(m);
    }
    if (!p.flushScheduled) {
      p.flushScheduled = true;
      queueMicrotask(() => {
        p.flushScheduled = false;
        this.#flush(p);
      });
    }
  }

  /** A node that said hello but is not a peer yet: the first message to it makes it one. */
  #adoptLearned(id: NodeId): Outbound | undefined {
    const address = this.#learned.get(id);
    if (address === undefined || this.#state !== "running") return undefined;
    this.#learned.delete(id);
    const p = this.#addPeer(id, address);
    this.#dial(p);
    return p;
  }

  /** One snapshot streams to a peer at a time; the leader resends if it still needs one. */
  #startSnapshot(p: Outbound, m: InstallSnapshot): boolean {
    if (p.snapshot !== undefined) {
      this.#stats.droppedQueueFull++;
      return false;
    }
    this.#streamIdLast = this.#streamIdLast === streamIdMax ? 1 : this.#streamIdLast + 1;
    p.snapshot = { streamId: this.#streamIdLast, message: m, offset: 0 };
    return true;
  }

  /** Writes the queue, then snapshot chunks while the socket has room, as one corked write. */
  #flush(p: Outbound): void {
    const socket = p.socket;
    if (p.state !== "connected" || socket === undefined) return; // the connect handler flushes
    if (!this.#hasRoom(socket)) return; // 'drain' flushes
    if (p.queue.length === 0 && p.snapshot === undefined) return;
    const batch = p.queue;
    p.queue = [];
    socket.cork();
    for (const m of batch) this.#writeMessage(socket, m);
    while (p.snapshot !== undefined && this.#hasRoom(socket)) this.#writeChunk(p, socket, p.snapshot);
    socket.uncork();
  }

  /**
   * Whether to write more now. Waiting is only right when a 'drain' is due (writableNeedDrain), or
   * the queue would stall with a small socketBufferedBytesMax; so the bound is overshot by at most
   * one batch, or by the stream's high-water mark.
   */
  #hasRoom(socket: Socket): boolean {
    return socket.writableLength < this.#limits.socketBufferedBytesMax || !socket.writableNeedDrain;
  }

  #writeMessage(socket: Socket, m: Message): void {
    const size = messageBytes(m);
    if (size > this.#limits.frameBytesMax) {
      this.#stats.droppedOversize++;
      this.#onWarning(
        `dropped a ${m.type} to node ${m.to}: ${size} bytes exceed frameBytesMax ${this.#limits.frameBytesMax}`,
      );
      return;
    }
    socket.write(messageFrame(m, size));
    this.#stats.sent++;
  }

  #writeChunk(p: Outbound, socket: Socket, s: OutgoingSnapshot): void {
    const { chunk, done } = nextChunk(s, this.#limits.snapshotChunkBytes);
    if (done) p.snapshot = undefined;
    const size = snapshotChunkBytes(chunk);
    if (size > this.#limits.frameBytesMax) {
      // Only a configuration of thousands of members could do this; the stream cannot go on.
      p.snapshot = undefined;
      this.#stats.droppedOversize++;
      return;
    }
    socket.write(snapshotChunkFrame(chunk, size));
    this.#stats.snapshotChunksSent++;
    if (done) this.#stats.sent++;
  }

  #dial(p: Outbound): void {
    p.timer = undefined;
    const socket = connect({
      host: p.address.host,
      port: p.address.port,
      noDelay: true,
      keepAlive: true,
      keepAliveInitialDelay: keepAliveDelayMs,
    });
    p.socket = socket;
    p.state = "connecting";
    socket.setTimeout(this.#limits.connectTimeoutMs, () => {
      socket.destroy(new Error(`connect timeout after ${this.#limits.connectTimeoutMs} ms`));
    });
    socket.once("connect", () => {
      if (p.socket !== socket) return;
      socket.setTimeout(0);
      p.state = "connected";
      p.failures = 0;
      this.#stats.connects++;
      if (p.everConnected) this.#stats.reconnects++;
      p.everConnected = true;
      const { host, port } = this.#advertise ?? this.listenAddress();
      socket.write(
        helloFrame({ from: this.#id, to: p.id, address: `${host.includes(":") ? `[${host}]` : host}:${port}` }),
      );
      this.#flush(p);
    });
    // Peers never write on this connection; reading it lets us see their FIN at once.
    socket.on("data", () => {});
    socket.on("drain", () => this.#flush(p));
    socket.on("error", () => {}); // 'close' follows and handles it
    socket.on("close", () => this.#outboundClosed(p, socket));
  }

  #outboundClosed(p: Outbound, socket: Socket): void {
    if (p.socket !== socket) return; // an older connection, already replaced
    p.socket = undefined;
    const wasConnected = p.state === "connected";
    if (!wasConnected) this.#stats.connectFailures++;
    this.#dropQueued(p);
    if (this.#state !== "running" || this.#peers.get(p.id) !== p) {
      p.state = "closed";
      return;
    }
    if (wasConnected) p.failures = 0;
    const { reconnectDelayMsMin: min, reconnectDelayMsMax: max } = this.#limits;
    const base = Math.min(max, min * 2 ** Math.min(p.failures, 30));
    // Jitter keeps nodes that lost each other at once from redialling in lockstep.
    const delay = Math.max(1, Math.round(base * (0.8 + 0.4 * Math.random())));
    p.failures++;
    p.state = "backoff";
    p.timer = setTimeout(() => this.#dial(p), delay);
    p.timer.unref();
  }

  #dropQueued(p: Outbound): void {
    this.#stats.droppedPeerDown += p.queue.length + (p.snapshot === undefined ? 0 : 1);
    p.queue = [];
    p.snapshot = undefined;
  }

  #shutdownPeer(p: Outbound): void {
    if (p.timer !== undefined) clearTimeout(p.timer);
    p.timer = undefined;
    this.#dropQueued(p);
    p.state = "closed";
    const socket = p.socket;
    p.socket = undefined;
    socket?.destroy();
  }

  // ---- inbound ----------------------------------------------------------------------------------

  #accept(socket: Socket): void {
    if (this.#state !== "running") {
      socket.destroy();
      return;
    }
    this.#stats.accepted++;
    socket.setKeepAlive(true, keepAliveDelayMs);
    const conn: Inbound = {
      socket,
      decoder: new FrameDecoder({ frameBytesMax: this.#limits.frameBytesMax }),
      snapshots: new SnapshotReassembler(this.#limits.snapshotBytesMax),
      closed: false,
    };
    this.#inbound.add(conn);
    socket.on("data", (chunk: Buffer) => this.#onData(conn, chunk));
    socket.on("error", () => {}); // 'close' follows
    socket.on("close", () => {
      this.#inbound.delete(conn);
      if (conn.snapshots.inProgress) this.#stats.snapshotStreamsDiscarded++;
    });
  }

  #onData(conn: Inbound, chunk: Uint8Array): void {
    if (conn.closed) return;
    const result = conn.decoder.push(chunk);
    for (const frame of result.frames) {
      const payload = decodePayload(frame);
      if (!payload.ok) return this.#reject(conn, payload.error);
      if (payload.kind === "message") this.#deliver(payload.message);
      else if (payload.kind === "hello") this.#onHello(payload.hello);
      else this.#onChunk(conn, payload.chunk);
      if (conn.closed) return; // onMessage closed the transport
    }
    if (!result.ok) this.#reject(conn, result.error);
  }

  #reject(conn: Inbound, error: string): void {
    this.#stats.decodeErrors++;
    const { remoteAddress, remotePort } = conn.socket;
    this.#onWarning(`closing peer connection from ${remoteAddress}:${remotePort}: ${error}`);
    conn.closed = true;
    conn.socket.destroy();
  }

  #onHello(hello: Hello): void {
    if (hello.to !== this.#id || hello.from === this.#id || this.#peers.has(hello.from)) return;
    const address = parsePeerAddress(hello.address);
    if (address !== undefined) this.#learned.set(hello.from, address);
  }

  #onChunk(conn: Inbound, chunk: SnapshotChunk): void {
    const outcome = conn.snapshots.accept(chunk);
    for (const reason of outcome.discarded) {
      this.#stats.snapshotStreamsDiscarded++;
      this.#onWarning(`discarded a snapshot stream from node ${chunk.from}: ${reason}`);
    }
    if (outcome.complete !== undefined) {
      this.#stats.snapshotsReceived++;
      this.#deliver(outcome.complete);
    }
  }

  #deliver(m: Message): void {
    if (this.#state !== "running") return;
    if (m.to !== this.#id) {
      this.#stats.droppedMisaddressed++;
      return;
    }
    this.#stats.received++;
    this.#onMessage(m);
  }
}

function checkAddress(address: PeerAddress, what: string): void {
  assert(address.host.length > 0, `${what}: empty host`);
  assert(Number.isInteger(address.port) && address.port >= 0 && address.port <= 65535, `${what}: port ${address.port}`);
}

function whenClosed(socket: Socket): Promise<void> {
  return socket.closed ? Promise.resolve() : new Promise((resolve) => socket.once("close", () => resolve()));
}

function listenError(address: PeerAddress, error: unknown): Error {
  const code = typeof error === "object" && error !== null && "code" in error ? String(error.code) : undefined;
  const where = `${address.host}:${address.port}`;
  const text =
    code === "EADDRINUSE"
      ? `port ${where} is in use`
      : code === "EADDRNOTAVAIL"
        ? `address ${address.host} is not an address of this machine (listening on ${where})`
        : code === "EACCES"
          ? `permission denied to listen on ${where}`
          : `cannot listen on ${where}: ${error instanceof Error ? error.message : String(error)}`;
  return Object.assign(new Error(text, { cause: error }), { code });
}

/** "host:port" (a bracketed IPv6 host allowed), as a hello carries it; undefined if malformed. */
function parsePeerAddress(text: string): PeerAddress | undefined {
  const match = /^(.+):(\d{1,5})$/.exec(text);
  const port = Number(match?.[2]);
  if (match === null || !(port >= 1 && port <= 65535)) return undefined;
  return { host: match[1]!.replace(/^\[(.*)\]$/, "$1"), port };
}
