/** The lock and election recipes' logic, on an in-memory cluster (memory_coordination.test.helper.ts). */
import assert from "node:assert/strict";
import { test } from "node:test";
import { campaign, observe } from "./election.js";
import { lock } from "./lock.js";
import { MemoryCoordination } from "./memory_coordination.test.helper.js";
import type { KeyValue } from "./types.js";

const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

test("lock: one holder at a time, in arrival order, tokens increasing; each waiter watches only the key before its own", async () => {
  const cluster = new MemoryCoordination();
  let holders = 0;
  const order: { who: number; token: number }[] = [];
  await Promise.all(
    Array.from({ length: 5 }, async (_, who) => {
      const held = await lock(cluster, "jobs", { ttl: 10 });
      holders++;
      assert.equal(holders, 1, "mutual exclusion");
      order.push({ who, token: held.token });
      await tick();
      holders--;
      await held.release();
    }),
  );
  assert.deepEqual(
    order.map((o) => o.who),
    [0, 1, 2, 3, 4],
  );
  const tokens = order.map((o) => o.token);
  assert.deepEqual(
    tokens,
    [...tokens].sort((a, b) => a - b),
  );
  assert.equal(new Set(tokens).size, 5);
  assert.equal(cluster.watched.length, 4, "each of the four waiters watched once");
  assert.ok(
    cluster.watched.every((key) => key.startsWith("jobs/") && !key.endsWith("*")),
    "no prefix watch",
  );
  assert.equal(new Set(cluster.watched).size, 4, "each a different key");
  assert.equal(cluster.kvs.size, 0, "every key is gone with its lease");
});

test("lock: a holder whose lease is revoked loses the key and learns it; the next waiter gets a higher token", async () => {
  const cluster = new MemoryCoordination();
  const first = await lock(cluster, "jobs", {});
  assert.equal(first.key, `jobs/${first.lease}`);
  let secondHeld = false;
  const second = lock(cluster, "jobs", {}).then((held) => {
    secondHeld = true;
    return held;
  });
  await tick();
  assert.equal(secondHeld, false);
  await cluster.leaseRevoke(first.lease);
  const error = await first.lost;
  assert.equal(error.code, "lease_not_found");
  const next = await second;
  assert.ok(next.token > first.token);
  assert.equal(cluster.kvs.has(first.key), false);
  await first.release();
  await next.release();
});

test("lock: giving up while waiting removes the waiter's key and lease and rejects with the abort reason", async () => {
  const cluster = new MemoryCoordination();
  const holder = await lock(cluster, "jobs", {});
  const abort = new AbortController();
  const waiting = lock(cluster, "jobs", { signal: abort.signal });
  await tick();
  assert.equal(cluster.kvs.size, 2);
  abort.abort(new Error("changed my mind"));
  await assert.rejects(waiting, /changed my mind/);
  assert.deepEqual([...cluster.kvs.keys()], [holder.key]);
  await assert.rejects(lock(cluster, "", {}), /must not be empty/);
  await holder.release();
});

test("campaign, proclaim, observe and resign: observers see each leader's value as it changes", async () => {
  const cluster = new MemoryCoordination();
  const abort = new AbortController();
  const seen: string[] = [];
  const watching = (async () => {
    for await (const leader of observe(cluster, "leader", { signal: abort.signal })) seen.push(leader.text);
  })();
  const first = await campaign(cluster, "leader", "n1", {});
  let secondElected = false;
  const second = campaign(cluster, "leader", "n2", {}).then((e) => {
    secondElected = true;
    return e;
  });
  await until(() => seen.length === 1);
  await first.proclaim("n1 again");
  await until(() => seen.length === 2);
  assert.equal(secondElected, false);
  await first.resign();
  const next = await second;
  assert.ok(next.token > first.token);
  await until(() => seen.length === 3);
  assert.deepEqual(seen, ["n1", "n1 again", "n2"]);
  await assert.rejects(first.proclaim("too late"), { code: "election_lost" });
  abort.abort();
  await watching;
  await next.resign();
});

test("observe: nothing while there is no leader, then the first candidate", async () => {
  const cluster = new MemoryCoordination();
  const abort = new AbortController();
  const observer = observe(cluster, "leader", { signal: abort.signal });
  const firstLeader: Promise<IteratorResult<KeyValue, void>> = observer.next();
  await tick();
  const elected = await campaign(cluster, "leader", "n3", {});
  assert.equal((await firstLeader).value?.text, "n3");
  abort.abort();
  assert.equal((await observer.next()).done, true);
  await elected.resign();
});

async function until(condition: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error("timed out waiting for a condition");
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
