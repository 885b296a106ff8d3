/**
 * Background keepalives of one client renewed in batches against a real `raftkv serve`: 200 leases
 * kept alive together outlive their TTL several times over, and the member served their renewals
 * with batch keepalives (POST /v1/lease/keepalive), not one request per lease.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { KeepAlive, KeepAliveEnd, RaftkvClient } from "raftkv/client";
import { clusterClient, ProcessCluster, request, until, type Member } from "./harness.js";

let cluster: ProcessCluster;
let member: Member;
let client: RaftkvClient;

before(async () => {
  cluster = await ProcessCluster.start(1);
  member = await cluster.leader(30_000);
  client = clusterClient(cluster, { timeoutMs: 20_000 });
});
after(async () => {
  client?.close();
  await cluster?.stop();
});

/** The member's count of 200 answers on `route`, 0 when it served none. */
async function served(route: string): Promise<number> {
  const series = `raftkv_http_requests_total{route="${route}",code="200"}`;
  const scrape = (await request(member.clientAddr, "GET", "/metrics")).text;
  const line = scrape.split("\n").find((l) => l.startsWith(`${series} `));
  return line === undefined ? 0 : Number(line.slice(series.length + 1));
}

describe("batched background keepalives on a real member", { timeout: 120_000 }, () => {
  it("200 leases kept alive together outlive their TTL, renewed with batch requests", async () => {
    const count = 200;
    const leases = await Promise.all(Array.from({ length: count }, () => client.leaseGrant(2)));
    const ttlMs = Math.max(...leases.map((l) => l.ttl)) * 1000;
    const batchBefore = await served("lease_keepalive_batch");
    const renewals = new Map<number, number>(leases.map((l) => [l.id, 0]));
    const ended = new Map<number, KeepAliveEnd>();
    const keepAlives: KeepAlive[] = leases.map((lease) => {
      const keepAlive = client.keepAlive(lease.id, {
        onRenewed: () => renewals.set(lease.id, (renewals.get(lease.id) ?? 0) + 1),
      });
      void keepAlive.done.then((end) => ended.set(lease.id, end));
      return keepAlive;
    });
    const started = Date.now();
    // Three TTLs later, with every lease renewed several times (or as soon as one was lost).
    await until(
      "three TTLs of renewals",
      () =>
        ended.size > 0 || (Date.now() - started > 3 * ttlMs && [...renewals.values()].every((n) => n >= 4))
          ? true
          : undefined,
      60_000,
    );
    assert.deepEqual([...ended.values()], [], "no keepalive ended");
    const alive = new Set((await client.leases()).map((l) => l.id));
    assert.deepEqual(
      leases.filter((l) => !alive.has(l.id)).map((l) => l.id),
      [],
      "every kept-alive lease outlived three TTLs",
    );
    for (const keepAlive of keepAlives) keepAlive.stop();
    assert.ok((await Promise.all(keepAlives.map((k) => k.done))).every((end) => end.reason === "stopped"));

    const total = [...renewals.values()].reduce((a, b) => a + b, 0);
    const batches = (await served("lease_keepalive_batch")) - batchBefore;
    assert.equal(await served("lease_keepalive"), 0, "no single-lease keepalive was sent");
    assert.ok(batches > 0, "renewals went out as batch keepalives");
    assert.ok(batches * 20 <= total, `${total} renewals took ${batches} batch requests: far fewer than one each`);
  });
});
