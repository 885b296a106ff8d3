/**
 * A real 3-process cluster (`raftkv serve` × 3 on loopback): nothing written but user writes,
 * forwarding (also right after a failover and a restart) and linearizable reads,
 * leader crash and failover, restart and catch-up, no acknowledged write lost, exactly-once
 * retries, clean stop. Waits are polls with generous deadlines; nothing relies on timing luck.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, before, describe, it } from "node:test";
import type { RaftkvClient } from "raftkv/client";
import {
  clusterClient,
  getJson,
  ProcessCluster,
  request,
  until,
  withDeadline,
  Writer,
  type Member,
} from "./harness.js";

interface Status {
  id: string;
  role: string;
  term: number;
  leader: string | null;
}

async function statusOf(m: Member): Promise<Status> {
  const r = await getJson(m.clientAddr, "/v1/status");
  assert.equal(r.status, 200, `GET /v1/status on ${m.name}`);
  return r.body as unknown as Status;
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}

describe("a 3-process cluster", () => {
  let cluster: ProcessCluster;
  let client: RaftkvClient;
  /** Three independent writers (own client, own session, own keys) run through the crash and the restart. */
  let writers: Writer[] = [];
  const writerClients: RaftkvClient[] = [];
  const acknowledged = (): number => writers.reduce((n, w) => n + w.acknowledged().length, 0);
  const run = randomBytes(4).toString("hex");
  const failovers: number[] = [];

  before(async () => {
    cluster = await ProcessCluster.start(3);
    client = clusterClient(cluster, { timeoutMs: 10_000 });
    await cluster.leader(30_000);
  });

  after(async () => {
    await Promise.all(writers.map((w) => w.stop().catch(() => undefined)));
    for (const c of writerClients) c.close();
    client?.close();
    await cluster?.stop();
  });

  /**
   * A lease read, which only the leader serves, sent to `via`: a follower forwards it to the leader's
   * client address, as the leader told it over their peer link. A 503 (no leader known yet, or its
   * address not yet heard) is asked again until `timeoutMs`.
   */
  async function leaseRead(via: Member, key: string, timeoutMs = 20_000): Promise<string> {
    const r = await until(
      `a lease read through ${via.name}`,
      async () => {
        const answer = await request(via.clientAddr, "GET", `/v1/kv/${key}?consistency=lease`);
        return answer.status === 503 ? undefined : answer;
      },
      timeoutMs,
    );
    assert.equal(r.status, 200, `lease read via ${via.name}: ${r.text}`);
    return (r.body as { value: string }).value;
  }

  it("members learn each other's client addresses without writing anything: a range over all keys is empty at revision 0", async () => {
    for (const m of cluster.members) {
      await until(
        `${m.name} to list every member's client address`,
        async () => {
          const members = (await getJson(m.clientAddr, "/v1/cluster")).body.members as
            { id: string; clientAddr: string | null }[] | undefined;
          const known = members?.filter((x) => x.clientAddr === cluster.member(x.id).clientAddr);
          return known?.length === cluster.members.length ? true : undefined;
        },
        20_000,
      );
    }
    for (const m of cluster.members) {
      const range = await until(
        `a range over all keys on ${m.name}`,
        async () => {
          const r = await getJson(m.clientAddr, "/v1/kv?from=%00&encoding=base64");
          return r.status === 503 ? undefined : r;
        },
        20_000,
      );
      assert.deepEqual(range.body, { kvs: [], more: false, revision: 0 }, `${m.name}: no key of the cluster's own`);
    }
  });

  it("a write through a follower is readable linearizably from every node as soon as it returns", async () => {
    const leader = await cluster.leader();
    const follower = cluster.members.find((m) => m !== leader)!;
    const key = `through-follower-${run}`;
    const value = `value-${run}`;
    // During an election a follower answers 503 (definitely not applied).
    const put = await until(
      "a PUT through a follower",
      async () => {
        const r = await request(follower.clientAddr, "PUT", `/v1/kv/${key}`, value);
        return r.status === 503 ? undefined : r;
      },
      20_000,
    );
    assert.equal(put.status, 200, `PUT via ${follower.name}: ${put.text}`);
    const revision = (put.body as { revision: number }).revision;
    assert.equal(revision, 1, `the first write of all: ${put.text}`);
    for (const m of cluster.members) {
      // No waiting for replication: a linearizable read must see the write. Only a 503 (not served,
      // e.g. during an election) is asked again; any stale or missing answer fails at once.
      const r = await until(
        `a linearizable GET on ${m.name}`,
        async () => {
          const answer = await request(m.clientAddr, "GET", `/v1/kv/${key}`);
          return answer.status === 503 ? undefined : answer;
        },
        20_000,
      );
      assert.equal(r.status, 200, `GET on ${m.name}: ${r.text}`);
      const kv = r.body as { key: string; value: string; modRevision: number; createRevision: number; version: number };
      assert.equal(kv.key, key);
      assert.equal(kv.value, value, `${m.name} returned a stale value`);
      assert.equal(kv.modRevision, revision);
      assert.equal(kv.createRevision, revision);
      assert.equal(kv.version, 1);
    }
  });

  it("a lease read through a follower is forwarded to the leader's client address", async () => {
    const leader = await cluster.leader();
    for (const m of cluster.members.filter((x) => x !== leader))
      assert.equal(await leaseRead(m, `through-follower-${run}`), `value-${run}`);
  });

  it("exactly-once: a retried PUT or txn with the same client id and seq is applied once and answers the first result", async () => {
    const leader = await cluster.leader();
    const follower = cluster.members.find((m) => m !== leader)!;
    const clientId = `eo-${run}`;
    const key = `eo-key-${run}`;
    const session = (seq: number): Record<string, string> => ({
      "Raftkv-Client-Id": clientId,
      "Raftkv-Seq": String(seq),
    });

    // Only-if-absent: a second application would answer 409 compare_failed.
    const putAnswer = async (addr: string): Promise<{ status: number; text: string }> =>
      until("a definite answer to the PUT", async () => {
        const r = await request(addr, "PUT", `/v1/kv/${key}?ifRevision=0`, "first", session(1));
        return r.status === 503 ? undefined : r;
      });
    const first = await putAnswer(follower.clientAddr);
    assert.equal(first.status, 200, first.text);
    const retried = await putAnswer(leader.clientAddr);
    assert.equal(retried.status, 200, `the retry must answer the first result, got ${retried.status} ${retried.text}`);
    assert.equal(retried.text, first.text, "the retry answers exactly the first result");
    const again = await putAnswer(follower.clientAddr);
    assert.equal(again.text, first.text);
    const kv = await getJson(leader.clientAddr, `/v1/kv/${key}`);
    assert.equal(kv.status, 200);
    assert.equal(kv.body.version, 1, "applied once");
    assert.equal(kv.body.value, "first");
    assert.equal(kv.body.modRevision, (JSON.parse(first.text) as { revision: number }).revision);

    // A txn retried with the same pair: without exactly-once its second run would take the failure branch.
    const txnKey = `eo-txn-${run}`;
    const txnBody = JSON.stringify({
      compare: [{ key: txnKey, modRevision: 0 }],
      success: [{ put: { key: txnKey, value: "txn-value" } }, { get: { key } }],
      failure: [{ get: { key: txnKey } }],
    });
    const txnAnswer = async (addr: string): Promise<{ status: number; text: string }> =>
      until("a definite answer to the txn", async () => {
        const r = await request(addr, "POST", "/v1/txn", txnBody, {
          ...session(2),
          "content-type": "application/json",
        });
        return r.status === 503 ? undefined : r;
      });
    const txn1 = await txnAnswer(leader.clientAddr);
    assert.equal(txn1.status, 200, txn1.text);
    assert.equal((JSON.parse(txn1.text) as { succeeded: boolean }).succeeded, true);
    const txn2 = await txnAnswer(follower.clientAddr);
    assert.equal(txn2.status, 200, txn2.text);
    assert.equal(txn2.text, txn1.text, "the retried txn answers exactly the first result");
    const txnKv = await getJson(leader.clientAddr, `/v1/kv/${txnKey}`);
    assert.equal(txnKv.body.version, 1, "the txn was applied once");

    // A lower seq for this client: refused with a 4xx, and nothing changes.
    const before = await getJson(leader.clientAddr, `/v1/kv?prefix=eo-`);
    const stale = await request(leader.clientAddr, "PUT", `/v1/kv/eo-stale-${run}`, "stale", session(1));
    assert.ok(
      stale.status >= 400 && stale.status < 500,
      `a lower seq must get a 4xx, got ${stale.status} ${stale.text}`,
    );
    const error = stale.body as { error: unknown; message: unknown };
    assert.equal(typeof error.error, "string");
    assert.equal(typeof error.message, "string");
    const staleTxn = await request(
      follower.clientAddr,
      "POST",
      "/v1/txn",
      JSON.stringify({ compare: [], success: [{ put: { key, value: "stale" } }] }),
      session(1),
    );
    assert.ok(
      staleTxn.status >= 400 && staleTxn.status < 500,
      `a lower seq must get a 4xx, got ${staleTxn.status} ${staleTxn.text}`,
    );
    const afterStale = await getJson(leader.clientAddr, `/v1/kv?prefix=eo-`);
    assert.deepEqual(afterStale.body.kvs, before.body.kvs, "a refused write changes nothing");
    assert.equal(afterStale.body.revision, before.body.revision, "a refused write does not advance the revision");
    assert.equal((await request(leader.clientAddr, "GET", `/v1/kv/eo-stale-${run}`)).status, 404);
  });

  let killed: Member | undefined;
  let newLeader: Member | undefined;

  it("SIGKILL of the leader: a new leader is elected and serves writes", async () => {
    const oldLeader = await cluster.leader();
    // Writes run all through the crash and the restart; their acknowledgements are checked at the end.
    writers = [0, 1, 2].map((w) => {
      const c = clusterClient(cluster, { timeoutMs: 3_000 });
      writerClients.push(c);
      return new Writer(c, (i) => `acked-${run}-w${w}-${i % 10}`);
    });
    await until("the writers' first acknowledgements", () => (acknowledged() >= 30 ? true : undefined), 20_000);

    const probe = clusterClient(cluster, { timeoutMs: 2_000 });
    try {
      const killedAt = performance.now();
      const code = await cluster.stopMember(oldLeader.name, "SIGKILL");
      assert.equal(code, null, "killed by the signal");
      killed = oldLeader;
      let tries = 0;
      await until(
        "a successful write after the leader's crash",
        async () => {
          tries++;
          await probe.put(`failover-${run}`, `after-${tries}`);
          return true;
        },
        30_000,
      );
      const failoverMs = performance.now() - killedAt;
      failovers.push(failoverMs);
      console.log(`failover (SIGKILL of the leader → first successful write): ${failoverMs.toFixed(0)} ms`);
    } finally {
      probe.close();
    }
    newLeader = await cluster.leader(20_000);
    assert.notEqual(newLeader.name, oldLeader.name);
    assert.equal((await statusOf(newLeader)).role, "leader");
    // The surviving follower heard the new leader's client address when their peer link connected.
    const survivor = cluster.members.find((m) => m !== oldLeader && m !== newLeader)!;
    assert.equal(await leaseRead(survivor, `failover-${run}`), await leaseRead(newLeader, `failover-${run}`));
  });

  it("the restarted node catches up and agrees on the leader", async () => {
    assert.ok(killed !== undefined, "needs the previous test's crash");
    cluster.startMember(killed.name);
    const restarted = killed;
    // Writes acknowledged after the restart, too.
    const ackedBefore = acknowledged();
    const latest = `latest-${run}`;
    const { revision } = await client.put(latest, `value-${ackedBefore}`);
    const value = `value-${ackedBefore}`;
    const seen = await until(
      `${restarted.name}'s serializable read of the latest key`,
      async () => {
        const r = await getJson(restarted.clientAddr, `/v1/kv/${latest}?consistency=serializable`);
        return r.status === 200 && r.body.value === value ? r.body : undefined;
      },
      30_000,
    );
    assert.equal(seen.modRevision, revision);
    const leader = await until(
      "the restarted node and the others to name the same leader",
      async () => {
        const statuses = await Promise.all(cluster.members.map(statusOf));
        const names = new Set(statuses.map((s) => s.leader));
        const [only] = [...names];
        return names.size === 1 && typeof only === "string" ? only : undefined;
      },
      30_000,
    );
    assert.equal((await statusOf(restarted)).leader, leader);
    // It knows where the leader serves clients: the leader redialled it as soon as it said hello.
    assert.equal(await leaseRead(restarted, latest, 5_000), value);
    await until(
      "acknowledged writes after the restart",
      () => (acknowledged() >= ackedBefore + 30 ? true : undefined),
      30_000,
    );
  });

  it("every acknowledged write is present", async () => {
    assert.ok(writers.length > 0, "needs the writers of the crash test");
    await Promise.all(writers.map((w) => w.stop()));
    const attempts = writers.flatMap((w) => w.attempts);
    const acked = writers.flatMap((w) => w.acknowledged());
    const counts = {
      ok: acked.length,
      unknown: attempts.filter((a) => a.outcome === "unknown").length,
      failed: attempts.filter((a) => a.outcome === "failed").length,
    };
    console.log(`writer: ${attempts.length} attempts, ${JSON.stringify(counts)}`);
    assert.ok(acked.length >= 40, `too few acknowledged writes to mean anything: ${JSON.stringify(counts)}`);
    const keys = [...new Set(attempts.map((a) => a.key))];
    for (const key of keys) {
      const mine = attempts.filter((a) => a.key === key);
      const lastAcked = mine.map((a) => a.outcome).lastIndexOf("ok");
      const kv = await client.get(key);
      if (lastAcked === -1) continue;
      // The last acknowledged value, or the value of a later write whose outcome was unknown.
      const allowed = new Set(
        mine
          .slice(lastAcked)
          .filter((a, i) => i === 0 || a.outcome === "unknown")
          .map((a) => a.value),
      );
      assert.ok(kv !== undefined, `${key}: acknowledged ${mine[lastAcked]!.value} but the key is gone`);
      assert.ok(
        allowed.has(kv.text),
        `${key}: acknowledged ${mine[lastAcked]!.value}, read ${kv.text} (allowed: ${[...allowed].join(", ")})`,
      );
    }
  });

  it("SIGTERM stops a member cleanly: exit status 0", async () => {
    const leader = await cluster.leader();
    const follower = cluster.members.find((m) => m !== leader)!;
    assert.equal(
      await withDeadline(
        cluster.stopMember(follower.name, "SIGTERM"),
        15_000,
        `${follower.name} to exit after SIGTERM`,
      ),
      0,
      follower.output,
    );
    // The leader too, with a write just acknowledged: it still has a quorum of itself and one follower.
    await client.put(`before-sigterm-${run}`, "x");
    assert.equal(
      await withDeadline(cluster.stopMember(leader.name, "SIGTERM"), 15_000, `${leader.name} to exit after SIGTERM`),
      0,
      leader.output,
    );
    // The last one alone, without a quorum.
    const last = cluster.members.find((m) => m.process !== undefined)!;
    assert.equal(
      await withDeadline(cluster.stopMember(last.name, "SIGTERM"), 15_000, `${last.name} to exit after SIGTERM`),
      0,
      last.output,
    );
  });

  after(() => {
    if (failovers.length > 0)
      console.log(`failover ms: median ${median(failovers).toFixed(0)}, max ${Math.max(...failovers).toFixed(0)}`);
  });
});
