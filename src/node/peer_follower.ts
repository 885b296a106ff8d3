import type { NodeId } from "../raft/index.js";
import type { PeerAddress } from "../transport/index.js";
import type { Clock, Timer } from "./clock.js";
import type { MemberAddress } from "./members.js";
import type { PeerTransport } from "./peer_transport.js";

/** How long a removed member's connection is kept: the last append, telling it of its removal, is queued on it. */
export const removedPeerGraceMs = 2_000;

/**
 * Keeps the transport's peers in step with the configuration: a member added is dialled at once; a
 * member removed is dropped a moment later, unless it is added back first.
 */
export class PeerFollower {
  readonly #self: NodeId;
  readonly #clock: Clock;
  readonly #parse: (address: string) => PeerAddress | undefined;
  readonly #removals = new Map<NodeId, Timer>();
  transport: PeerTransport | undefined;

  constructor(options: { self: NodeId; clock: Clock; parse: (address: string) => PeerAddress | undefined }) {
    this.#self = options.self;
    this.#clock = options.clock;
    this.#parse = options.parse;
  }

  changed(change: { added?: [NodeId, MemberAddress]; removed?: NodeId }): void {
    const [id, address] = change.added ?? [];
    const parsed = address === undefined ? undefined : this.#parse(address.peerAddr);
    if (id !== undefined && id !== this.#self && parsed !== undefined) {
      this.#cancelRemoval(id);
      this.transport?.setPeer(id, parsed);
    }
    const removed = change.removed;
    if (removed === undefined || removed === this.#self) return;
    this.#cancelRemoval(removed);
    this.#removals.set(
      removed,
      this.#clock.after(removedPeerGraceMs, () => {
        this.#removals.delete(removed);
        this.transport?.removePeer(removed);
      }),
    );
  }

  stop(): void {
    for (const timer of this.#removals.values()) timer.cancel();
    this.#removals.clear();
  }

  #cancelRemoval(id: NodeId): void {
    this.#removals.get(id)?.cancel();
    this.#removals.delete(id);
  }
}
