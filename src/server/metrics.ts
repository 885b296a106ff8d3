import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from "prom-client";
import type { Node, NodeObserver } from "../node/index.js";
import type { TransportStats } from "../transport/index.js";

const roles = ["follower", "preCandidate", "candidate", "leader"] as const;

/** Transport drop counters, by the `reason` label they are exported under. */
const dropReasons: readonly [string, keyof TransportStats][] = [
  ["queue_full", "droppedQueueFull"],
  ["peer_down", "droppedPeerDown"],
  ["unknown_peer", "droppedUnknownPeer"],
  ["oversize", "droppedOversize"],
  ["misaddressed", "droppedMisaddressed"],
];

/**
 * The node's Prometheus metrics, named after etcd's where the meaning is the same
 * (`etcd_server_*` → `raftkv_server_*`, `etcd_disk_wal_*` → `raftkv_disk_wal_*`). One registry per
 * server, so several servers in one process (tests, `raftkv dev`) never share counters. Events
 * arrive through `observer()`; state (indexes, queues, transport counters) is read at each scrape
 * by `update()`. The README lists every metric with an example scrape.
 */
export class Metrics {
  readonly registry = new Registry();
  readonly term = new Gauge({ name: "raftkv_server_term", help: "Current Raft term", registers: [this.registry] });
  readonly isLeader = new Gauge({
    name: "raftkv_server_is_leader",
    help: "1 if this member leads",
    registers: [this.registry],
  });
  readonly hasLeader = new Gauge({
    name: "raftkv_server_has_leader",
    help: "1 if a leader is known",
    registers: [this.registry],
  });
  readonly role = new Gauge({
    name: "raftkv_server_role",
    help: "This member's Raft role: 1 for the role it has, 0 for the others",
    labelNames: ["role"] as const,
    registers: [this.registry],
  });
  readonly commitIndex = new Gauge({
    name: "raftkv_server_commit_index",
    help: "Raft commit index",
    registers: [this.registry],
  });
  readonly appliedIndex = new Gauge({
    name: "raftkv_server_applied_index",
    help: "Index applied to the state machine",
    registers: [this.registry],
  });
  readonly applyLag = new Gauge({
    name: "raftkv_server_apply_lag_entries",
    help: "Committed entries not yet applied here (commit index minus applied index)",
    registers: [this.registry],
  });
  readonly leaderChanges = new Counter({
    name: "raftkv_server_leader_changes_seen_total",
    help: "Leader changes seen",
    registers: [this.registry],
  });
  readonly proposalsCommitted = new Counter({
    name: "raftkv_server_proposals_committed_total",
    help: "Proposals made on this member that were committed and applied",
    registers: [this.registry],
  });
  readonly proposalsFailed = new Counter({
    name: "raftkv_server_proposals_failed_total",
    help: "Proposals made on this member that failed: refused (too busy), timed out, lost to a leader change, or stopped",
    registers: [this.registry],
  });
  readonly proposalsPending = new Gauge({
    name: "raftkv_server_proposals_pending",
    help: "Proposals appended here and waiting to apply",
    registers: [this.registry],
  });
  readonly readIndexRounds = new Counter({
    name: "raftkv_server_read_index_rounds_total",
    help: "ReadIndex rounds started (each serves every read that joined it), by mode: safe (heartbeat round) or lease",
    labelNames: ["mode"] as const,
    registers: [this.registry],
  });
  readonly fsync = new Histogram({
    name: "raftkv_disk_wal_fsync_duration_seconds",
    help: "Time to make one Ready batch durable",
    buckets: [0.0005, 0.001, 0.002, 0.004, 0.008, 0.016, 0.032, 0.064, 0.128, 0.256, 0.512, 1.024],
    registers: [this.registry],
  });
  readonly entriesPerFsync = new Histogram({
    name: "raftkv_disk_wal_entries_per_fsync",
    help: "Log entries made durable by one fsync (group commit batch size)",
    buckets: [0, 1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024],
    registers: [this.registry],
  });
  readonly apply = new Histogram({
    name: "raftkv_server_apply_duration_seconds",
    help: "Time to apply one batch of committed entries",
    buckets: [0.0001, 0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5],
    registers: [this.registry],
  });
  readonly snapshots = new Counter({
    name: "raftkv_snapshots_total",
    help: "Snapshots taken here or installed from the leader",
    labelNames: ["kind"] as const,
    registers: [this.registry],
  });
  readonly snapshotDuration = new Histogram({
    name: "raftkv_snapshot_duration_seconds",
    help: "Time to take a snapshot (encode and write durably) or to install one (restore the state machine)",
    labelNames: ["kind"] as const,
    buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10],
    registers: [this.registry],
  });
  readonly compactions = new Counter({
    name: "raftkv_disk_wal_compactions_total",
    help: "Times the log was compacted below a snapshot",
    registers: [this.registry],
  });
  readonly peerQueue = new Gauge({
    name: "raftkv_network_peer_send_queue_depth",
    help: "Messages waiting to be written to each peer's connection",
    labelNames: ["peer"] as const,
    registers: [this.registry],
  });
  readonly peerConnected = new Gauge({
    name: "raftkv_network_peer_connected",
    help: "1 while the outbound connection to the peer is established",
    labelNames: ["peer"] as const,
    registers: [this.registry],
  });
  readonly peerDropped = new Counter({
    name: "raftkv_network_peer_dropped_messages_total",
    help: "Messages to peers dropped (Raft resends what matters), by reason",
    labelNames: ["reason"] as const,
    registers: [this.registry],
  });
  readonly peerSent = new Counter({
    name: "raftkv_network_peer_sent_messages_total",
    help: "Messages written to peer connections",
    registers: [this.registry],
  });
  readonly peerReceived = new Counter({
    name: "raftkv_network_peer_received_messages_total",
    help: "Valid messages received from peers",
    registers: [this.registry],
  });
  readonly requests = new Histogram({
    name: "raftkv_http_request_duration_seconds",
    help: "Client API request latency by route and status code",
    labelNames: ["route", "code"] as const,
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [this.registry],
  });
  /** Not among prom-client's defaults; the snapshot path's buffers show here (issue 18's memory budget). */
  readonly arrayBuffers = new Gauge({
    name: "raftkv_process_array_buffers_bytes",
    help: "Memory held by ArrayBuffers and Buffers (part of nodejs_external_memory_bytes)",
    registers: [this.registry],
    collect() {
      this.set(process.memoryUsage().arrayBuffers);
    },
  });
  readonly requestsTotal = new Counter({
    name: "raftkv_http_requests_total",
    help: "Client API requests by route and status code",
    labelNames: ["route", "code"] as const,
    registers: [this.registry],
  });

  /** Transport counters already exported, so each scrape adds only what is new. */
  #transportSeen: Partial<Record<keyof TransportStats, number>> = {};
  readonly #peersSeen = new Set<string>();

  constructor(options: { defaultMetrics?: boolean } = {}) {
    // process_* and nodejs_* (memory, CPU, event-loop delay), as etcd exports Go's.
    if (options.defaultMetrics !== false) collectDefaultMetrics({ register: this.registry });
    // Labelled series appear in the first scrape, at zero, rather than at their first event.
    for (const [reason] of dropReasons) this.peerDropped.inc({ reason }, 0);
    for (const mode of ["safe", "lease"]) this.readIndexRounds.inc({ mode }, 0);
    for (const kind of ["taken", "installed"]) this.snapshots.inc({ kind }, 0);
  }

  observer(): NodeObserver {
    return {
      persisted: (seconds, entries) => {
        this.fsync.observe(seconds);
        this.entriesPerFsync.observe(entries);
      },
      applied: (seconds) => this.apply.observe(seconds),
      proposed: (outcome) => {
        if (outcome === "rejected") this.proposalsFailed.inc();
      },
      proposalSettled: (outcome) => (outcome === "committed" ? this.proposalsCommitted : this.proposalsFailed).inc(),
      readIndexRound: (mode) => this.readIndexRounds.inc({ mode }),
      leaderChanged: () => this.leaderChanges.inc(),
      snapshot: ({ kind, seconds }) => {
        this.snapshots.inc({ kind });
        this.snapshotDuration.observe({ kind }, seconds);
      },
      compacted: () => this.compactions.inc(),
    };
  }

  /** One served request. */
  request(route: string, code: number, seconds: number): void {
    const labels = { route, code: String(code) };
    this.requests.observe(labels, seconds);
    this.requestsTotal.inc(labels);
  }

  /** Reads the node's current state into the gauges; called before each scrape. */
  update(node: Node): void {
    const s = node.raft.status();
    this.term.set(s.term);
    this.isLeader.set(s.role === "leader" ? 1 : 0);
    this.hasLeader.set(s.leader === 0 ? 0 : 1);
    for (const role of roles) this.role.set({ role }, s.role === role ? 1 : 0);
    this.commitIndex.set(s.commitIndex);
    this.appliedIndex.set(s.appliedIndex);
    this.applyLag.set(Math.max(0, s.commitIndex - s.appliedIndex));
    this.proposalsPending.set(node.raft.pendingProposals());
    const stats = node.transport.stats();
    const add = (key: keyof TransportStats, counter: Counter, labels?: Record<string, string>): void => {
      const delta = stats[key] - (this.#transportSeen[key] ?? 0);
      this.#transportSeen[key] = stats[key];
      if (delta <= 0) return;
      if (labels === undefined) counter.inc(delta);
      else counter.inc(labels, delta);
    };
    for (const [reason, key] of dropReasons) add(key, this.peerDropped, { reason });
    add("sent", this.peerSent);
    add("received", this.peerReceived);
    const peers = new Set<string>();
    for (const p of node.transport.peers()) {
      const peer = node.nameOf(p.id);
      peers.add(peer);
      this.peerQueue.set({ peer }, p.queued);
      this.peerConnected.set({ peer }, p.state === "connected" ? 1 : 0);
    }
    // A removed peer's series go away with it.
    for (const peer of this.#peersSeen) {
      if (peers.has(peer)) continue;
      this.peerQueue.remove({ peer });
      this.peerConnected.remove({ peer });
    }
    this.#peersSeen.clear();
    for (const peer of peers) this.#peersSeen.add(peer);
  }
}
