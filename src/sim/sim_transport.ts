import type { PeerAddress, PeerStatus, PeerWire, TransportStats } from "../transport/index.js";
import type { PeerTransport } from "../node/index.js";
import type { NodeId } from "../raft/index.js";
import { zeroCounters } from "../transport/index.js";
import type { SimNetwork } from "./network.js";
import type { World } from "./world.js";

/** What the cluster does with a member's traffic. */
interface TrafficHooks<M> {
  /** `m` leaves `from` (after the network took it): the checkers look at it here. */
  sent(from: NodeId, m: M): void;
  /** Bytes sent by `from` arrive at `to`, whichever life of it is up. */
  arrived(to: NodeId, bytes: Uint8Array): void;
}

/**
 * One life of a member's peer transport on the simulated network. Every message is encoded by the
 * real codec here and decoded on arrival, so a codec bug shows up in the sweep.
 */
export class SimTransport<M> implements PeerTransport<M> {
  readonly #id: NodeId;
  readonly #world: World;
  readonly #network: SimNetwork;
  readonly #hooks: TrafficHooks<M>;
  readonly #wire: PeerWire<M>;
  readonly #staleable: (m: M) => boolean;
  readonly #peers: Map<NodeId, PeerAddress>;
  /** Members not (yet) peers that reached this one: replies go to them (the TCP transport's hello). */
  readonly #learned = new Map<NodeId, PeerAddress>();
  readonly onMessage: (m: M) => void;
  #closed = false;
  readonly #stats = { sent: 0, received: 0, droppedUnknownPeer: 0, droppedClosed: 0 };

  constructor(options: {
    id: NodeId;
    world: World;
    network: SimNetwork;
    hooks: TrafficHooks<M>;
    peers: ReadonlyMap<NodeId, PeerAddress>;
    onMessage: (m: M) => void;
    /** The engine's codec (the real one, so a codec bug shows up in the sweep). */
    wire: PeerWire<M>;
    /** Messages the network may also deliver far later (see SimNetwork.schedule). */
    staleable: (m: M) => boolean;
  }) {
    this.#wire = options.wire;
    this.#staleable = options.staleable;
    this.#id = options.id;
    this.#world = options.world;
    this.#network = options.network;
    this.#hooks = options.hooks;
    this.#peers = new Map(options.peers);
    this.onMessage = options.onMessage;
  }

  get closed(): boolean {
    return this.#closed;
  }

  send(messages: readonly M[]): void {
    const wire = this.#wire;
    for (const m of messages) {
      if (this.#closed) {
        this.#stats.droppedClosed++;
        continue;
      }
      const to = wire.to(m);
      if (!this.#peers.has(to)) {
        const learned = this.#learned.get(to);
        if (learned === undefined) {
          this.#stats.droppedUnknownPeer++;
          continue;
        }
        this.#learned.delete(to);
        this.#peers.set(to, learned);
      }
      const bytes = wire.encode(m);
      for (const delay of this.#network.schedule(wire.from(m), to, this.#staleable(m))) {
        this.#world.at(this.#world.now + delay, () => this.#hooks.arrived(to, bytes), to);
      }
      this.#stats.sent++;
      this.#hooks.sent(this.#id, m);
    }
  }

  /** A message for this life of the member arrived and decoded; `from` is where its sender listens. */
  deliver(m: M, from: PeerAddress): void {
    if (this.#closed) return;
    const sender = this.#wire.from(m);
    if (!this.#peers.has(sender)) this.#learned.set(sender, from);
    this.#stats.received++;
    this.onMessage(m);
  }

  setPeer(id: NodeId, address: PeerAddress): void {
    this.#peers.set(id, address);
  }

  removePeer(id: NodeId): void {
    this.#peers.delete(id);
    this.#learned.delete(id);
  }

  stats(): TransportStats {
    const s = this.#stats;
    // No sockets here: the connection and framing counters stay zero.
    return {
      ...zeroCounters(),
      sent: s.sent,
      received: s.received,
      droppedPeerDown: s.droppedClosed,
      droppedUnknownPeer: s.droppedUnknownPeer,
    };
  }

  peers(): PeerStatus[] {
    return [...this.#peers].map(([id, address]) => ({
      id,
      address,
      state: this.#closed ? "closed" : "connected",
      queued: 0,
      snapshotStreaming: false,
    }));
  }

  close(): Promise<void> {
    this.#closed = true;
    return Promise.resolve();
  }
}
