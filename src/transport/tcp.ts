/*
 * Peer transport over TCP. Each node dials one outbound connection per peer and sends only on it
 * (outbound_link.ts); it receives on the connections its peers dialled (inbound_connection.ts). A
 * send never blocks and never throws: a message that cannot go out soon is dropped and counted,
 * because Raft retries everything it sends.
 *
 * This module owns the listener, the peer table and the transport's lifecycle, and decides what an
 * inbound message is for: messages addressed to another node are dropped, and a hello says where
 * its sender serves clients and, when it is not a peer yet, where to answer it.
 *
 * With `tls`, both directions are mutual TLS against the peer CA: the listener refuses, in the
 * handshake and so before reading a frame, a node that shows no certificate signed by that CA, and
 * links verify the node they dial the same way (see outbound_link.ts for why not its host name).
 */
import { createServer } from "node:net";
import type { Server, Socket } from "node:net";
import { createServer as createTlsServer } from "node:tls";
import type { TlsCredentials } from "../tls/index.js";
import type { Message } from "../raft/messages.js";
import { raftWire, type PeerWire } from "./peer_wire.js";
import { assert } from "../util/assert.js";
import type { NodeId } from "../util/ids.js";
import { isClientAddress, type Hello } from "./codec.js";
import { FRAME_BYTES_MAX_DEFAULT } from "./framing.js";
import { InboundConnection, type ConnectionContext } from "./inbound_connection.js";
import { OutboundLink, type LinkContext, type LinkLimits, type PeerStatus } from "./outbound_link.js";
import { checkAddress, parsePeerAddress, type PeerAddress } from "./peer_address.js";
import { SNAPSHOT_CHUNK_BYTES_DEFAULT } from "./snapshot_stream.js";
import { zeroCounters, type TransportStats } from "./transport_stats.js";

export interface TcpTransportOptions<M = Message> {
  /** How this engine's messages travel (Raft's by default, when M is Raft's Message). */
  readonly wire?: PeerWire<M>;
  /** This node; inbound messages addressed to anyone else are dropped. */
  readonly id: NodeId;
  readonly listen: PeerAddress;
  /**
   * Where the others reach this node, told to each peer when it connects (the listen address by
   * default): a peer that has not learnt of this node can answer it all the same.
   */
  readonly advertise?: PeerAddress;
  /**
   * Where this node serves clients ("host:port", isClientAddress), told to each peer in the same
   * hello, so that every member learns every other's without writing it anywhere. None by default.
   */
  readonly clientAddress?: string;
  /**
   * Called with what a node that connected said of where it serves clients: on each of its
   * connections, so again after it reconnects (with a new address if it restarted with one).
   */
  readonly onClientAddress?: (id: NodeId, address: string) => void;
  /** The other members (never this node). Changed later with setPeer/removePeer. */
  readonly peers: ReadonlyMap<NodeId, PeerAddress>;
  /**
   * Called synchronously for each valid message addressed to this node, in arrival order per
   * connection. It must not throw (an exception there is a bug and propagates out of the socket's
   * event handler); a message sent after an InstallSnapshot may arrive before the snapshot completes.
   */
  readonly onMessage: (message: M) => void;
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
  /**
   * This member's certificate and key and the peer CA (required): mutual TLS on every peer
   * connection. Updates apply to handshakes that follow; open connections stay. Plain TCP without.
   */
  readonly tls?: TlsCredentials;
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

export class TcpTransport<M = Message> {
  readonly #id: NodeId;
  readonly #listen: PeerAddress;
  readonly #wire: PeerWire<M>;
  readonly #onMessage: (message: M) => void;
  readonly #onWarning: (text: string) => void;
  readonly #onClientAddress: (id: NodeId, address: string) => void;
  readonly #peers = new Map<NodeId, OutboundLink<M>>();
  readonly #advertise: PeerAddress | undefined;
  /** Where nodes that are not (yet) peers said they listen, when they connected: replies go there. */
  readonly #learned = new Map<NodeId, PeerAddress>();
  readonly #inbound = new Set<InboundConnection<M>>();
  readonly #stats = zeroCounters();
  readonly #linkContext: LinkContext<M>;
  readonly #connectionContext: ConnectionContext<M>;
  #server: Server | undefined;
  #state: "new" | "starting" | "running" | "closed" = "new";
  #starting: Promise<void> | undefined;
  #closing: Promise<void> | undefined;
  #streamIdLast = 0;
  readonly #tls: TlsCredentials | undefined;
  #stopFollowingTls: (() => void) | undefined;

  constructor(options: TcpTransportOptions<M>) {
    assert(options.id >= 1, `node id ${options.id}`);
    checkAddress(options.listen, "listen");
    this.#id = options.id;
    // Without a wire M is Raft's Message (the default type argument), which raftWire carries.
    this.#wire = options.wire ?? (raftWire as unknown as PeerWire<M>);
    this.#listen = options.listen;
    this.#advertise = options.advertise;
    this.#onMessage = options.onMessage;
    this.#onWarning = options.onWarning ?? (() => {});
    this.#onClientAddress = options.onClientAddress ?? (() => {});
    this.#tls = options.tls;
    assert(options.tls?.material.ca !== undefined || options.tls === undefined, "peer TLS needs the peer CA");
    const clientAddress = options.clientAddress;
    assert(clientAddress === undefined || isClientAddress(clientAddress), `client address ${clientAddress}`);
    const l = limitsOf(options);
    assert(l.queueMax >= 1 && l.snapshotChunkBytes >= 1 && l.socketBufferedBytesMax >= 1, "limits must be ≥ 1");
    // A chunk frame holds the chunk plus its header and, on the first chunk, the configuration.
    assert(l.snapshotChunkBytes + 4096 <= l.frameBytesMax, "snapshotChunkBytes must leave room in frameBytesMax");
    assert(l.reconnectDelayMsMin >= 1 && l.reconnectDelayMsMin <= l.reconnectDelayMsMax, "reconnect delays");
    this.#linkContext = {
      self: this.#id,
      wire: this.#wire,
      limits: l,
      stats: this.#stats,
      onWarning: this.#onWarning,
      helloAddress: () => this.#advertise ?? this.listenAddress(),
      clientAddress,
      nextStreamId: () => this.#nextStreamId(),
      keepsDialling: (link) => this.#state === "running" && this.#peers.get(link.id) === link,
      tls: options.tls,
    };
    this.#connectionContext = {
      wire: this.#wire,
      frameBytesMax: l.frameBytesMax,
      snapshotBytesMax: l.snapshotBytesMax,
      stats: this.#stats,
      onWarning: this.#onWarning,
      deliver: (m) => this.#deliver(m),
      onHello: (hello) => this.#onHello(hello),
    };
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
    const server = this.#createServer();
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
    for (const link of this.#peers.values()) link.dial();
  }

  #createServer(): Server {
    const tls = this.#tls;
    if (tls === undefined) return createServer({ noDelay: true }, (socket) => this.#accept(socket));
    const server = createTlsServer(
      { ...tls.material, requestCert: true, rejectUnauthorized: true, noDelay: true },
      (socket) => this.#accept(socket),
    );
    server.on("tlsClientError", (error, socket) => {
      this.#stats.handshakesRefused++;
      this.#onWarning(`refused a peer connection from ${socket.remoteAddress}:${socket.remotePort}: ${error.message}`);
    });
    this.#stopFollowingTls = tls.onUpdate((material) => server.setSecureContext({ ...material }));
    return server;
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
  send(messages: readonly M[]): void {
    for (const m of messages) {
      const to = this.#wire.to(m);
      const link = to === this.#id ? undefined : (this.#peers.get(to) ?? this.#adoptLearned(to));
      if (link === undefined) this.#stats.droppedUnknownPeer++;
      else link.enqueue(m);
    }
  }

  /** Adds a peer or moves it to a new address (its connection is then re-dialled). */
  setPeer(id: NodeId, address: PeerAddress): void {
    const existing = this.#peers.get(id);
    if (existing !== undefined) {
      if (existing.address.host === address.host && existing.address.port === address.port) return;
      existing.shutdown();
      this.#peers.delete(id);
    }
    const link = this.#addPeer(id, address);
    if (this.#state === "running") link.dial();
  }

  /** Forgets a peer: its connection closes and what was queued for it is dropped. */
  removePeer(id: NodeId): void {
    this.#learned.delete(id);
    const link = this.#peers.get(id);
    if (link === undefined) return;
    this.#peers.delete(id);
    link.shutdown();
  }

  stats(): TransportStats {
    return { ...this.#stats };
  }

  peers(): PeerStatus[] {
    return [...this.#peers.values()].map((link) => link.status());
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
    this.#stopFollowingTls?.();
    if (wasStarting) await this.#starting?.catch(() => {});
    const closed: Promise<void>[] = [];
    for (const link of this.#peers.values()) {
      if (link.socket !== undefined) closed.push(whenClosed(link.socket));
      link.shutdown();
    }
    for (const conn of this.#inbound) {
      closed.push(whenClosed(conn.socket));
      conn.destroy();
    }
    const server = this.#server;
    if (server?.listening === true) closed.push(new Promise((resolve) => server.close(() => resolve())));
    await Promise.all(closed);
  }

  #addPeer(id: NodeId, address: PeerAddress): OutboundLink<M> {
    assert(id >= 1 && id !== this.#id, `peer id ${id} (this node is ${this.#id})`);
    checkAddress(address, `peer ${id}`);
    assert(address.port !== 0, `peer ${id}: port 0 can only be listened on`);
    const link = new OutboundLink(id, address, this.#linkContext);
    this.#peers.set(id, link);
    return link;
  }

  /** A node that said hello but is not a peer yet: the first message to it makes it one. */
  #adoptLearned(id: NodeId): OutboundLink<M> | undefined {
    const address = this.#learned.get(id);
    if (address === undefined || this.#state !== "running") return undefined;
    this.#learned.delete(id);
    const link = this.#addPeer(id, address);
    link.dial();
    return link;
  }

  #nextStreamId(): number {
    this.#streamIdLast = this.#streamIdLast === streamIdMax ? 1 : this.#streamIdLast + 1;
    return this.#streamIdLast;
  }

  #accept(socket: Socket): void {
    if (this.#state !== "running") {
      socket.destroy();
      return;
    }
    this.#stats.accepted++;
    socket.setKeepAlive(true, keepAliveDelayMs);
    const conn = new InboundConnection(socket, this.#connectionContext, () => this.#inbound.delete(conn));
    this.#inbound.add(conn);
  }

  #onHello(hello: Hello): void {
    if (hello.to !== this.#id || hello.from === this.#id) return;
    if (hello.clientAddress !== undefined) this.#onClientAddress(hello.from, hello.clientAddress);
    const link = this.#peers.get(hello.from);
    if (link !== undefined) {
      // Without this, a peer that restarted would wait out our backoff (up to reconnectDelayMsMax)
      // before hearing from us, and so before learning our client address.
      link.redialIfWaiting();
      return;
    }
    const address = parsePeerAddress(hello.address);
    if (address !== undefined) this.#learned.set(hello.from, address);
  }

  #deliver(m: M): void {
    if (this.#state !== "running") return;
    if (this.#wire.to(m) !== this.#id) {
      this.#stats.droppedMisaddressed++;
      return;
    }
    this.#stats.received++;
    this.#onMessage(m);
  }
}

function limitsOf(
  options: Omit<TcpTransportOptions<never>, "wire" | "onMessage">,
): LinkLimits & { readonly snapshotBytesMax: number } {
  const frameBytesMax = options.frameBytesMax ?? FRAME_BYTES_MAX_DEFAULT;
  return {
    queueMax: options.queueMax ?? defaults.queueMax,
    frameBytesMax,
    snapshotChunkBytes:
      options.snapshotChunkBytes ?? Math.min(SNAPSHOT_CHUNK_BYTES_DEFAULT, Math.floor(frameBytesMax / 2)),
    snapshotBytesMax: options.snapshotBytesMax ?? defaults.snapshotBytesMax,
    socketBufferedBytesMax: options.socketBufferedBytesMax ?? defaults.socketBufferedBytesMax,
    reconnectDelayMsMin: options.reconnectDelayMsMin ?? defaults.reconnectDelayMsMin,
    reconnectDelayMsMax: options.reconnectDelayMsMax ?? defaults.reconnectDelayMsMax,
    connectTimeoutMs: options.connectTimeoutMs ?? defaults.connectTimeoutMs,
    keepAliveDelayMs,
  };
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
