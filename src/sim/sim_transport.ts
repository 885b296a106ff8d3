import type { PeerAddress, PeerStatus, TransportStats } from "../transport/index.js";
import type { PeerTransport } from "../node/index.js";
import type { Message, NodeId } from "../raft/index.js";
import { encodeMessage, zeroCounters } from "../transport/index.js";
import type { SimNetwork } from "./network.js";
import type { World } from "./world.js";

/** What the cluster does with a member's traffic. */
interface TrafficHooks {
  /** `m` leaves `from` (after the network took it): the checkers look at it here. */
  sent(from: NodeId, m: Message): void;
  /** Bytes sent by `from` arrive at `to`, whichever life of it is up. */
  arrived(to: NodeId, bytes: Uint8Array): void;
}

/**
 * One life of a member's peer transport on the simulated network. Every message is encoded by the
 * real codec here and decoded on arrival, so a codec bug shows up in the sweep.
 */
export class SimTransport implements PeerTransport {
  readonly #id: NodeId;
  readonly #world: World;
  readonly #network: SimNetwork;
  readonly #hooks: TrafficHooks;
  readonly #peers: Map<NodeId, PeerAddress>;
  /** Members not (yet) peers that reached this one: replies go to them (the TCP transport's hello). */
  readonly #learned = new Map<NodeId, PeerAddress>();
  readonly onMessage: (m: Message) => void;
  #closed = false;
  readonly #stats = { sent: 0, received: 0, droppedUnknownPeer: 0, droppedClosed: 0 };

  constructor(options: {
    id: NodeId;
    world: World;
    network: SimNetwork;
    hooks: TrafficHooks;
    peers: ReadonlyMap<NodeId, PeerAddress>;
    onMessage: (m: Message) => void;
  }) {
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

  send(messages: readonly Message[]): void {
    for (const m of messages) {
      if (this.#closed) {
        this.#stats.droppedClosed++;
        continue;
      }
      if (!this.#peers.has(m.to)) {
        const learned = this.#learned.get(m.to);
        if (learned === undefined) {
          this.#stats.droppedUnknownPeer++;
          continue;
        }
        this.#learned.delete(m.to);
        this.#peers.set(m.to, learned);
      }
      const bytes = encodeMessage(m);
      for (const delay of this.#network.schedule(m)) {
        this.#world.at(this.#world.now + delay, () => this.#hooks.arrived(m.to, bytes), m.to);
      }
      this.#stats.sent++;
      this.#hooks.sent(this.#id, m);
    }
  }

  /** A message for this life of the member arrived and decoded; `from` is where its sender listens. */
  deliver(m: Message, from: PeerAddress): void {
    if (this.#closed) return;
    if (!this.#peers.has(m.from)) this.#learned.set(m.from, from);
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
