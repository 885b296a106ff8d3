// Throughput and latency on real processes: closed-loop clients (bench/lib/load.mjs), each with one
// keep-alive connection to the leader, putting `valueBytes`-byte values at `keys` keys. Every client
// talks to the leader so that no engine pays the follower's forwarding hop (Multi-Paxos followers
// forward writes over HTTP; Raft followers forward inside the engine).
import { closedLoop, openConns, seededRandom } from "../lib/load.mjs";
import { leaderChangesSeen, writableLeader } from "./cluster.mjs";

export const valueBytes = 100;
const keys = 1000;

function putRequests() {
  const value = "v".repeat(valueBytes);
  return Array.from({ length: keys }, (_, k) =>
    Buffer.from(`PUT /v1/kv/bench-${k} HTTP/1.1\r\nHost: x\r\nContent-Length: ${value.length}\r\n\r\n${value}`),
  );
}

/** One closed-loop run with `clients` clients against the cluster's leader. */
export async function throughput(cluster, { clients, warmupMs, durationMs }) {
  const leader = await writableLeader(cluster);
  const port = Number(new URL(leader.url).port);
  const conns = await openConns(Array.from({ length: clients }, () => ({ host: "127.0.0.1", port })));
  const requests = putRequests();
  const random = seededRandom(clients);
  // Leader changes during the run explain refusals (503 no_leader) and stalls.
  const before = await leaderChangesSeen(cluster);
  try {
    const result = await closedLoop({
      conns,
      nextRequest: () => requests[Math.floor(random() * keys)],
      warmupMs,
      durationMs,
    });
    const after = await leaderChangesSeen(cluster);
    const leaderChanges = Math.max(...after.map((n, i) => n - before[i]).filter(Number.isFinite));
    return { ...result, leaderChanges };
  } finally {
    for (const c of conns) c.close();
  }
}
