import type { Node } from "../node/index.js";
import type { NodeId, Term } from "../raft/index.js";
import type { PeerAddress } from "../transport/index.js";
import type { Prng } from "../util/prng.js";
import type { SimDisk } from "./disk/sim_disk.js";
import type { DurableMirror } from "./durable_mirror.js";
import type { SimTransport } from "./sim_transport.js";
import type { WatchedStateMachine } from "./watched_state_machine.js";

/** One simulated machine: a disk that outlives crashes; a process (the real node) that does not. */
export interface Member {
  readonly name: string;
  readonly id: NodeId;
  readonly peerAddr: string;
  /** `peerAddr` parsed, as a hello carries it. */
  readonly address: PeerAddress;
  readonly initial: boolean;
  readonly prng: Prng;
  /** The machine's clock rate (see ClusterOptions.clockDrift). */
  readonly rate: number;
  disk: SimDisk;
  /** Bumped by every crash: what an earlier life scheduled or reported is ignored. */
  life: number;
  state: "starting" | "up" | "down";
  /** A power loss flipped a bit in its log: it must refuse to start, for good. */
  corrupt: boolean;
  /** Its disk fails writes and syncs now (failDisk): it may well fail to start. */
  diskFailing: boolean;
  /** Every fdatasync takes this long now (slowDisk), whatever the disk model says. */
  syncLatencyMs: number | undefined;
  node: Node | undefined;
  transport: SimTransport<unknown> | undefined;
  stateMachine: WatchedStateMachine<unknown> | undefined;
  /** What this life has made durable, for Raft's checks (kept across a crash until the next life recovers). */
  mirror: DurableMirror | undefined;
  stalledUntil: number;
  /** Per life: the highest commit index seen in a Ready, and sent in a message. */
  commitSeen: number;
  commitSent: number;
  /** The term this member led in when the last Ready was taken, if it led. */
  leadingTerm: Term | undefined;
  /** The configuration in force when the last Ready was taken (commits are counted against it). */
  voters: { incoming: ReadonlySet<NodeId>; outgoing: ReadonlySet<NodeId> | undefined } | undefined;
  /** When every link to and from the member was cut, and its term then (see checkIsolatedTerm). */
  isolatedSince: number | undefined;
  isolatedTerm: Term | undefined;
  lastDeliveryAt: number;
}
