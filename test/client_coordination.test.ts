/**
 * Leases, locks and elections through raftkv/client against real `raftkv serve` processes: keys
 * kept alive in the background past their TTL, revocation at one revision, and the lock and
 * election recipes between two clients.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { RaftkvClient, type Watch, type WatchEvent } from "raftkv/client";
import { clusterClient, ProcessCluster, until, withDeadline } from "./harness.js";
import { described, eventsThrough } from "./watch_events.js";

let cluster: ProcessCluster;
let client: RaftkvClient;
/** A second client that starts its rounds on another member. */
let other: RaftkvClient;

before(async () => {
  cluster = await ProcessCluster.start(3);
  await cluster.leader(30_000);
  client = clusterClient(cluster, { timeoutMs: 20_000 });
  const addrs = cluster.members.map((m) => m.clientAddr);
  other = new RaftkvClient({ endpoints: [...addrs.slice(1), addrs[0]!], timeoutMs: 20_000 });
});
after(async () => {
  client?.close();
  other?.close();
  await cluster?.stop();
});

/** The events of the next message that has some. */
async function nextEvents(watch: Watch): Promise<readonly WatchEvent[]> {
  for (;;) {
    const next = await withDeadline(watch.next(), 30_000, "the next watch event");
    if (next.done === true) return [];
    if (next.value.type === "events") return next.value.events;
  }
}

describe("leases", { timeout: 120_000 }, () => {
  it("a key whose lease is kept alive in the background outlives the TTL, and goes after stop()", async () => {
    const lease = await client.leaseGrant(2);
    await client.put("leased", "v", { lease: lease.id });
    assert.equal((await client.get("leased"))?.lease, lease.id);
    const info = await client.leaseTimeToLive(lease.id, { keys: true });
    assert.deepEqual(
      [info.id, info.ttl, info.keys?.map((k) => new TextDecoder().decode(k))],
      [lease.id, lease.ttl, ["leased"]],
    );
    assert.ok((await client.leases()).some((l) => l.id === lease.id));
    const renewals = client.keepAlive(lease.id);
    const watch = client.watch({ key: "leased" });
    await watch.ready;
    // Looked at throughout three TTLs: the renewals keep it.
    const keptUntil = Date.now() + 3 * lease.ttl * 1000;
    while (Date.now() < keptUntil) {
      assert.ok((await client.get("leased")) !== undefined, "the key outlived its kept-alive lease");
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    renewals.stop();
    assert.deepEqual(await renewals.done, { reason: "stopped" });
    const [gone] = await nextEvents(watch);
    watch.close();
    assert.equal(gone?.type, "delete", "the lease expired and took the key");
    assert.equal(await client.get("leased"), undefined);
    await assert.rejects(client.leaseTimeToLive(lease.id), { code: "lease_not_found", status: 404 });
    await assert.rejects(client.leaseKeepAlive(lease.id), { code: "lease_not_found" });
    await assert.rejects(client.put("leased", "v", { lease: lease.id }), { code: "lease_not_found" });
  });

  it("revoking a lease deletes its keys at one revision, put or txn put", async () => {
    const lease = await client.leaseGrant(60);
    await client.put("r/1", "a", { lease: lease.id });
    await client.txn({ compare: [], success: [{ type: "put", key: "r/2", value: "b", lease: lease.id }] });
    const watch = client.watch({ prefix: "r/" });
    await watch.ready;
    const revoked = await client.leaseRevoke(lease.id);
    assert.equal(revoked.deleted, 2);
    const events = await eventsThrough(watch, revoked.revision);
    watch.close();
    assert.deepEqual(described(events), ["delete r/1 prev=-", "delete r/2 prev=-"]);
    assert.ok(events.every((e) => e.kv.modRevision === revoked.revision));
    await assert.rejects(client.leaseRevoke(lease.id), { code: "lease_not_found" });
  });
});

describe("locks between two clients", { timeout: 120_000 }, () => {
  it("a lock admits one holder at a time, tokens increase, and fenced writes all land", async () => {
    let inside = 0;
    const tokens: number[] = [];
    const work = async (c: RaftkvClient): Promise<void> => {
      for (let round = 0; round < 3; round++) {
        const lock = await c.lock("jobs", { ttl: 10 });
        inside++;
        assert.equal(inside, 1, "one holder at a time");
        tokens.push(lock.token);
        const counter = await c.get("jobs-counter");
        const fenced = await c.txn({
          compare: [
            { key: lock.key, modRevision: lock.token },
            { key: "jobs-counter", modRevision: counter?.modRevision ?? 0 },
          ],
          success: [{ type: "put", key: "jobs-counter", value: String(Number(counter?.text ?? "0") + 1) }],
        });
        assert.ok(fenced.succeeded, "the holder's fenced write");
        inside--;
        await lock.release();
      }
    };
    await Promise.all([work(client), work(other)]);
    assert.equal((await client.get("jobs-counter"))?.text, "6");
    assert.deepEqual(
      tokens,
      [...tokens].sort((a, b) => a - b),
    );
    assert.equal(new Set(tokens).size, 6);
    assert.equal((await client.range({ prefix: "jobs/" })).kvs.length, 0, "every lock key is gone");
  });

  it("a holder whose lease is revoked loses the key and learns it; the next waiter gets a higher token", async () => {
    const first = await client.lock("revoked", { ttl: 3 });
    const second = other.lock("revoked", { ttl: 10 });
    await until("the second contender to queue", async () =>
      (await client.range({ prefix: "revoked/" })).kvs.length === 2 ? true : undefined,
    );
    await client.leaseRevoke(first.lease);
    const next = await withDeadline(second, 30_000, "the waiter to take the lock");
    assert.ok(next.token > first.token);
    const lost = await withDeadline(first.lost, 30_000, "the first holder to learn of its loss");
    assert.equal(lost.code, "lease_not_found");
    const stale = await client.txn({
      compare: [{ key: first.key, modRevision: first.token }],
      success: [{ type: "put", key: "revoked-resource", value: "stale" }],
    });
    assert.equal(stale.succeeded, false, "the old token no longer fences a write");
    await first.release();
    await next.release();
  });
});

describe("elections between two clients", { timeout: 120_000 }, () => {
  it("campaign, proclaim, observe and resign", async () => {
    const abort = new AbortController();
    const seen: string[] = [];
    const observing = (async () => {
      for await (const leader of client.observe("election", { signal: abort.signal })) seen.push(leader.text);
    })();
    const first = await client.campaign("election", "n1", { ttl: 10 });
    await until("the observer to see n1", () => (seen.at(-1) === "n1" ? true : undefined));
    const second = other.campaign("election", "n2", { ttl: 10 });
    await until("the second candidate to queue", async () =>
      (await client.range({ prefix: "election/" })).kvs.length === 2 ? true : undefined,
    );
    await first.proclaim("n1 again");
    await until("the observer to see the proclamation", () => (seen.at(-1) === "n1 again" ? true : undefined));
    await first.resign();
    const next = await withDeadline(second, 30_000, "the second candidate to be elected");
    assert.ok(next.token > first.token);
    await until("the observer to see n2", () => (seen.at(-1) === "n2" ? true : undefined));
    assert.deepEqual(seen, ["n1", "n1 again", "n2"]);
    await assert.rejects(first.proclaim("too late"), { code: "election_lost" });
    abort.abort();
    await withDeadline(observing, 30_000, "the observer to end");
    await next.resign();
    assert.equal((await client.range({ prefix: "election/" })).kvs.length, 0);
  });
});
