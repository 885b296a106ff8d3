import { test } from "node:test";
import assert from "node:assert/strict";
import type { Node } from "../node/index.js";
import { nodeIdOf } from "../node/names.js";
import type { NodeId } from "../raft/index.js";
import { Metrics } from "./metrics.js";

/** Every metric the README documents, as scraped (histograms by their _count series). */
const documentedMetrics = [
  "raftkv_server_term",
  "raftkv_server_is_leader",
  "raftkv_server_has_leader",
  "raftkv_server_role",
  "raftkv_server_leader_changes_seen_total",
  "raftkv_server_proposals_committed_total",
  "raftkv_server_proposals_failed_total",
  "raftkv_server_proposals_pending",
  "raftkv_server_commit_index",
  "raftkv_server_applied_index",
  "raftkv_server_apply_lag_entries",
  "raftkv_server_apply_duration_seconds_count",
  "raftkv_server_read_index_rounds_total",
  "raftkv_disk_wal_fsync_duration_seconds_count",
  "raftkv_disk_wal_entries_per_fsync_count",
  "raftkv_disk_wal_compactions_total",
  "raftkv_snapshots_total",
  "raftkv_snapshot_duration_seconds_count",
  "raftkv_network_peer_send_queue_depth",
  "raftkv_network_peer_connected",
  "raftkv_network_peer_dropped_messages_total",
  "raftkv_network_peer_sent_messages_total",
  "raftkv_network_peer_received_messages_total",
  "raftkv_http_requests_total",
  "raftkv_http_request_duration_seconds_count",
  "raftkv_process_array_buffers_bytes",
];

function fakeNode(state: { term: number; role: string; stats: Record<string, number>; queued: number }): Node {
  const ids = new Map(["n1", "n2"].map((n) => [nodeIdOf(n) as number, n]));
  return {
    nameOf: (id: NodeId) => ids.get(id) ?? String(id),
    raft: {
      status: () => ({ term: state.term, role: state.role, leader: nodeIdOf("n1"), commitIndex: 10, appliedIndex: 7 }),
      pendingProposals: () => 2,
    },
    transport: {
      stats: () => ({
        sent: 0,
        received: 0,
        droppedQueueFull: 0,
        droppedPeerDown: 0,
        droppedUnknownPeer: 0,
        droppedOversize: 0,
        droppedMisaddressed: 0,
        ...state.stats,
      }),
      peers: () => [
        {
          id: nodeIdOf("n2"),
          address: { host: "127.0.0.1", port: 7002 },
          state: "connected",
          queued: state.queued,
          snapshotStreaming: false,
        },
      ],
    },
  } as unknown as Node;
}

function value(text: string, series: string): number {
  const line = text.split("\n").find((l) => l.startsWith(`${series} `));
  assert.ok(line !== undefined, `${series} in the scrape`);
  return Number(line.slice(series.length + 1));
}

test("a scrape has every documented metric, with state read at scrape time and events counted", async () => {
  const metrics = new Metrics({ defaultMetrics: false });
  const state = { term: 3, role: "leader", stats: { sent: 10, received: 4, droppedPeerDown: 2 }, queued: 5 };
  const node = fakeNode(state);
  const observer = metrics.observer();
  observer.persisted?.(0.002, 16);
  observer.applied?.(0.0001, 16);
  observer.proposed?.("accepted");
  observer.proposed?.("rejected");
  observer.proposalSettled?.("committed");
  observer.proposalSettled?.("failed");
  observer.readIndexRound?.("safe");
  observer.leaderChanged?.(nodeIdOf("n1"));
  observer.snapshot?.({ kind: "taken", index: 100, bytes: 1, seconds: 0.01 });
  observer.compacted?.(90);
  metrics.request("put", 200, 0.003);
  metrics.update(node);
  let text = await metrics.registry.metrics();
  for (const name of documentedMetrics)
    assert.match(text, new RegExp(`^${name}(\\{[^}]*\\})? \\d`, "m"), `${name} is exported`);
  for (const name of documentedMetrics.map((n) => n.replace(/_count$/, "")))
    assert.match(text, new RegExp(`^# HELP ${name} \\S`, "m"), `${name} has help text`);
  assert.equal(value(text, "raftkv_server_term"), 3);
  assert.equal(value(text, 'raftkv_server_role{role="leader"}'), 1);
  assert.equal(value(text, 'raftkv_server_role{role="follower"}'), 0);
  assert.equal(value(text, "raftkv_server_apply_lag_entries"), 3);
  assert.equal(value(text, "raftkv_server_proposals_pending"), 2);
  assert.equal(value(text, "raftkv_server_proposals_committed_total"), 1);
  assert.equal(value(text, "raftkv_server_proposals_failed_total"), 2, "a refused proposal and a failed one");
  assert.equal(value(text, 'raftkv_server_read_index_rounds_total{mode="safe"}'), 1);
  assert.equal(value(text, 'raftkv_disk_wal_entries_per_fsync_bucket{le="16"}'), 1);
  assert.equal(value(text, 'raftkv_disk_wal_entries_per_fsync_bucket{le="8"}'), 0);
  assert.equal(value(text, 'raftkv_network_peer_send_queue_depth{peer="n2"}'), 5);
  assert.equal(value(text, 'raftkv_network_peer_dropped_messages_total{reason="peer_down"}'), 2);
  assert.equal(value(text, 'raftkv_http_requests_total{route="put",code="200"}'), 1);

  // Transport counters are cumulative in the transport: each scrape adds only what is new.
  state.stats = { sent: 15, received: 4, droppedPeerDown: 3 };
  metrics.update(node);
  metrics.update(node);
  text = await metrics.registry.metrics();
  assert.equal(value(text, "raftkv_network_peer_sent_messages_total"), 15);
  assert.equal(value(text, 'raftkv_network_peer_dropped_messages_total{reason="peer_down"}'), 3);
});

test("metric names follow Prometheus conventions", async () => {
  const metrics = new Metrics({ defaultMetrics: false });
  const types = [...(await metrics.registry.metrics()).matchAll(/^# TYPE (\S+) (\S+)$/gm)].map(
    (m) => [m[1]!, m[2]!] as const,
  );
  assert.ok(types.length >= 20);
  for (const [name, type] of types) {
    assert.match(name, /^raftkv_[a-z_]+$/);
    if (type === "counter") assert.match(name, /_total$/, `${name}: counters end in _total`);
    else assert.doesNotMatch(name, /_total$/, `${name}: only counters end in _total`);
    if (type === "histogram") assert.match(name, /_(seconds|fsync)$/, `${name}: a histogram names its unit`);
  }
});
