// Faults on real processes: the time from SIGKILL of the leader to the next acknowledged write, and
// what bringing a restarted follower up to date costs (bytes the others sent it, seconds until its
// applied index reaches the leader's). Basic Paxos has no leader to lose and no log to fetch: its
// "leader" is the member the clients write at, and a restarted member is up to date once it answers a
// read of the last register written while it was down (each read is a quorum round of its own).
import { performance } from "node:perf_hooks";
import { sleep } from "../lib/load.mjs";
import { http, waitFor } from "../lib/procs.mjs";
import { freshName, startMember, statusOf, writableLeader, writePath } from "./cluster.mjs";
import { valueBytes } from "./real_load.mjs";

/**
 * SIGKILLs the leader, then starts a put at the survivors in turn every 20 ms, without waiting for
 * the earlier ones (a put a survivor forwarded to the dead leader hangs until its own timeout, which
 * would otherwise set the figure), until one acknowledges; restarts the killed member and waits
 * until it has applied everything.
 */
export async function failoverOnce(cluster, round) {
  const leader = await writableLeader(cluster);
  const survivors = cluster.members.filter((m) => m !== leader);
  const killedAt = performance.now();
  leader.child.kill("SIGKILL");
  const exited = new Promise((resolve) =>
    leader.child.exitCode !== null || leader.child.signalCode !== null ? resolve() : leader.child.once("exit", resolve),
  );
  let acknowledgedAt;
  let acknowledged;
  const inFlight = [];
  for (let k = 0; acknowledgedAt === undefined; k++) {
    if (performance.now() - killedAt > 60_000) {
      // The next measurement still wants three members.
      await Promise.all(inFlight);
      await exited;
      startMember(cluster, leader);
      throw new Error("no write acknowledged within 60 s of the leader's SIGKILL");
    }
    const target = survivors[k % survivors.length];
    const name = `failover-${round}-${k}`;
    inFlight.push(
      http(`${target.url}${writePath(cluster, name)}`, {
        method: "PUT",
        body: "ok",
        timeoutMs: 2000,
      }).then(
        (put) => {
          if (put.status !== 200 || acknowledgedAt !== undefined) return;
          acknowledgedAt = performance.now();
          acknowledged = name;
        },
        () => undefined,
      ),
    );
    await sleep(20);
  }
  await Promise.all(inFlight);
  const ms = acknowledgedAt - killedAt;
  await exited;
  startMember(cluster, leader);
  if (cluster.kv) await caughtUp(cluster, leader, 60_000);
  else await readsBack(cluster, leader, acknowledged, 60_000);
  return ms;
}

/** Waits until `member`'s applied index reaches the leader's commit index (read once the wait starts). */
async function caughtUp(cluster, member, timeoutMs) {
  const leader = await writableLeader(cluster);
  const target = (await statusOf(leader)).commitIndex;
  await waitFor(
    `${member.name} to apply through ${target}`,
    async () => ((await statusOf(member))?.appliedIndex >= target ? true : undefined),
    { timeoutMs, child: member.child },
  );
  return target;
}

/**
 * Waits until `member` reads register `name`, written once and acknowledged while it was down, at
 * version 1: a read is a Paxos round, so it then answers for every acknowledged write.
 */
async function readsBack(cluster, member, name, timeoutMs) {
  await waitFor(
    `${member.name} to read ${name}`,
    async () => {
      const read = await http(`${member.url}/v1/registers/${name}`).catch(() => undefined);
      return read?.status === 200 && read.json?.version === 1 ? true : undefined;
    },
    { timeoutMs, child: member.child },
  );
}

/**
 * Puts `count` keys, `width` at a time, at whichever member leads: on a busy machine a leader may
 * lose its lease mid-way, and a refused put is sent again to the next leader (a put is idempotent,
 * and so is a write-once that took effect: it answers "written" again). Resolves with the last name.
 */
async function writeKeys(cluster, count, width) {
  const value = "c".repeat(valueBytes);
  // KV rounds overwrite the same keys, so each round's snapshot holds the same store.
  const prefix = cluster.kv ? "catchup" : freshName("catchup");
  let next = 0;
  let leader = await writableLeader(cluster);
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < count) {
        const k = next++;
        for (;;) {
          const put = await http(`${leader.url}${writePath(cluster, `${prefix}-${k}`)}`, {
            method: "PUT",
            body: value,
            timeoutMs: 10_000,
          }).catch(() => ({ status: 0 }));
          if (put.status === 200) break;
          leader = await writableLeader(cluster);
        }
      }
    }),
  );
  return `${prefix}-${count - 1}`;
}

/**
 * Stops a follower (SIGKILL), writes `keys` keys, restarts it, and measures until its applied index
 * reaches the leader's commit index: the seconds, and the bytes the other members sent it meanwhile
 * (counted by the relay in front of its peer port, heartbeats included); `answeredSeconds` is how
 * much of that the process took to start and answer its status at all.
 */
export async function catchUp(cluster, { keys }) {
  const leader = await writableLeader(cluster);
  const follower = cluster.members.find((m) => m !== leader);
  follower.child.kill("SIGKILL");
  await new Promise((resolve) => follower.child.once("exit", resolve));
  const last = await writeKeys(cluster, keys, 16);
  const bytesBefore = follower.proxy.counts.toMember;
  const started = performance.now();
  startMember(cluster, follower);
  await waitFor(`${follower.name} to answer`, () => statusOf(follower), { timeoutMs: 30_000, child: follower.child });
  const answeredSeconds = (performance.now() - started) / 1000;
  let through;
  if (cluster.kv) through = await caughtUp(cluster, follower, 120_000);
  else await readsBack(cluster, follower, last, 120_000);
  const seconds = (performance.now() - started) / 1000;
  const bytes = follower.proxy.counts.toMember - bytesBefore;
  // Whether it caught up from a snapshot or from the log: the counter starts at 0 with each process.
  const metrics = cluster.kv ? (await http(`${follower.url}/metrics`)).text : "";
  const snapshotsInstalled = Number(/^raftkv_snapshots_total\{kind="installed"\} (\d+)/m.exec(metrics)?.[1] ?? NaN);
  // Give the member a moment so the next measurement starts from a quiet cluster.
  await sleep(200);
  return { keys, through, seconds, answeredSeconds, bytes, bytesPerKey: bytes / keys, snapshotsInstalled };
}
