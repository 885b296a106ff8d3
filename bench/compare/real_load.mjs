// Throughput and latency on real processes: closed-loop clients (bench/lib/load.mjs), each with one
// keep-alive connection to the leader, putting `valueBytes`-byte values at `keys` keys. Every client
// talks to the leader so that no engine pays the follower's forwarding hop (Multi-Paxos followers
// forward writes over HTTP; Raft followers forward inside the engine). Basic Paxos's clients all write
// at one member too, each request a write-once register of its own (no other workload is written
// without a read first: a register's next version needs its current one).
import { closedLoop, openConns, seededRandom } from "../lib/load.mjs";
import { freshName, leaderChangesSeen, writableLeader } from "./cluster.mjs";

export const valueBytes = 100;
const keys = 1000;

const value = "v".repeat(valueBytes);
const put = (path) => Buffer.from(`PUT ${path} HTTP/1.1\r\nHost: x\r\nContent-Length: ${value.length}\r\n\r\n${value}`);

/** The next request's bytes: a put at one of `keys` keys, or a write-once of a fresh register. */
function requestMaker(cluster, random) {
  if (!cluster.kv) {
    const prefix = freshName("bench");
    let n = 0;
    return () => put(`/v1/registers/${prefix}-${n++}`);
  }
  const requests = Array.from({ length: keys }, (_, k) => put(`/v1/kv/bench-${k}`));
  return () => requests[Math.floor(random() * keys)];
}

/** One closed-loop run with `clients` clients against the cluster's leader. */
export async function throughput(cluster, { clients, warmupMs, durationMs }) {
  const leader = await writableLeader(cluster);
  const port = Number(new URL(leader.url).port);
  const conns = await openConns(Array.from({ length: clients }, () => ({ host: "127.0.0.1", port })));
  const nextRequest = requestMaker(cluster, seededRandom(clients));
  // Leader changes during the run explain refusals (503 no_leader) and stalls.
  const before = await leaderChangesSeen(cluster);
  try {
    const result = await closedLoop({
      conns,
      nextRequest,
      warmupMs,
      durationMs,
    });
    const after = await leaderChangesSeen(cluster);
    const changes = after.map((n, i) => n - before[i]).filter(Number.isFinite);
    const leaderChanges = changes.length === 0 ? undefined : Math.max(...changes);
    return { ...result, leaderChanges };
  } finally {
    for (const c of conns) c.close();
  }
}
