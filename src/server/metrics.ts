import { Counter, Gauge, Histogram, Registry } from "prom-client";
import type { NodeObserver } from "../node/index.js";

/**
 * The node's Prometheus metrics, in etcd's naming style. One registry per server, so several
 * servers in one process (tests, `raftkv dev`) never share counters.
 */
export class Metrics {
  readonly registry = new Registry();
  readonly term = new Gauge({ name: "raftkv_server_term", help: "Current Raft term", registers: [this.registry] });
  readonly isLeader = new Gauge({ name: "raftkv_server_is_leader", help: "1 if this member leads", registers: [this.registry] });
  readonly hasLeader = new Gauge({ name: "raftkv_server_has_leader", help: "1 if a leader is known", registers: [this.registry] });
  readonly commitIndex = new Gauge({ name: "raftkv_server_commit_index", help: "Raft commit index", registers: [this.registry] });
  readonly appliedIndex = new Gauge({ name: "raftkv_server_applied_index", help: "Index applied to the state machine", registers: [this.registry] });
  readonly leaderChanges = new Counter({ name: "raftkv_server_leader_changes_seen_total", help: "Leader changes seen", registers: [this.registry] });
  readonly proposals = new Counter({
    name: "raftkv_server_proposals_total",
    help: "Proposals by outcome",
    labelNames: ["outcome"] as const,
    registers: [this.registry],
  });
  readonly fsync = new Histogram({
    name: "raftkv_disk_wal_fsync_duration_seconds",
    help: "Time to make one Ready batch durable",
    buckets: [0.0005, 0.001, 0.002, 0.004, 0.008, 0.016, 0.032, 0.064, 0.128, 0.256, 0.512, 1.024],
    registers: [this.registry],
  });
  readonly apply = new Histogram({
    name: "raftkv_server_apply_duration_seconds",
    help: "Time to apply one batch of committed entries",
    buckets: [0.0001, 0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5],
    registers: [this.registry],
  });
  readonly requests = new Histogram({
    name: "raftkv_http_request_duration_seconds",
    help: "Client API requests by route and status",
    labelNames: ["route", "status"] as const,
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [this.registry],
  });

  observer(): NodeObserver {
    return {
      persisted: (seconds) => this.fsync.observe(seconds),
      applied: (seconds) => this.apply.observe(seconds),
      proposed: (outcome) => this.proposals.inc({ outcome }),
      leaderChanged: () => this.leaderChanges.inc(),
    };
  }
}
