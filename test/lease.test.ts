/**
 * Leases over HTTP on real `raftkv serve` processes (docs/coordination.md, "Leases"): a 3-member
 * cluster serving every route from any member, expiry once the client stops renewing, and bad input
 * that changes nothing. Waits are polls with deadlines.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { getJson, ProcessCluster, request, until, type Member } from "./harness.js";

interface LeaseJson {
  readonly id: number;
  readonly ttl: number;
  readonly remaining?: number;
  readonly keys?: string[];
}

async function postJson(m: Member, path: string, body?: unknown): Promise<{ status: number; body: unknown }> {
  const r = await request(m.clientAddr, "POST", path, body === undefined ? undefined : JSON.stringify(body));
  return { status: r.status, body: r.body };
}

async function grant(m: Member, body: unknown): Promise<LeaseJson> {
  const r = await postJson(m, "/v1/lease/grant", body);
  assert.equal(r.status, 200, `grant on ${m.name}: ${JSON.stringify(r.body)}`);
  return r.body as LeaseJson;
}

async function put(m: Member, key: string, value: string, lease?: number): Promise<{ status: number; body: unknown }> {
  const query = lease === undefined ? "" : `?lease=${lease}`;
  const r = await request(m.clientAddr, "PUT", `/v1/kv/${key}${query}`, value);
  return { status: r.status, body: r.body };
}

function errorCode(body: unknown): unknown {
  return (body as { error?: unknown }).error;
}

/** A running 3-member cluster, its leader and the others. */
interface Fixture {
  readonly cluster: ProcessCluster;
  readonly leader: Member;
  readonly followers: readonly Member[];
}

/** Grants on a follower (forwarded), attaches keys by put and txn, renews, looks up and revokes from any member. */
async function routesFromAnyMember({ cluster, leader, followers }: Fixture): Promise<void> {
  const [first, second] = followers as [Member, Member];
  const lease = await grant(first, { ttl: 30 });
  assert.equal(lease.ttl, 30);
  assert.ok(Number.isSafeInteger(lease.id) && lease.id > 0, `id ${lease.id}`);

  assert.equal((await put(second, "routes/a", "1", lease.id)).status, 200);
  const txn = await postJson(second, "/v1/txn", {
    success: [{ put: { key: "routes/b", value: "2", lease: lease.id } }],
  });
  assert.equal(txn.status, 200, JSON.stringify(txn.body));
  const kv = await getJson(first.clientAddr, "/v1/kv/routes%2Fa");
  assert.equal(kv.body.lease, lease.id);

  const renewed = await postJson(second, `/v1/lease/${lease.id}/keepalive`);
  assert.deepEqual([renewed.status, renewed.body], [200, { id: lease.id, ttl: 30 }]);
  // Many at once (forwarded from a follower), each id answered: a lease that does not exist says so.
  const batch = await postJson(first, "/v1/lease/keepalive", { ids: [lease.id, 1] });
  assert.equal(batch.status, 200, JSON.stringify(batch.body));
  assert.deepEqual((batch.body as { leases: unknown[] }).leases, [
    { id: lease.id, ttl: 30 },
    { id: 1, error: "lease_not_found" },
  ]);
  for (const bad of [{}, { ids: [] }, { ids: ["x"] }, { ids: [0] }]) {
    const refused = await postJson(first, "/v1/lease/keepalive", bad);
    assert.deepEqual([refused.status, errorCode(refused.body)], [400, "bad_request"], JSON.stringify(bad));
  }
  const looked = await getJson(first.clientAddr, `/v1/lease/${lease.id}`);
  assert.equal(looked.status, 200, JSON.stringify(looked.body));
  const status = looked.body as unknown as LeaseJson;
  assert.deepEqual(status.keys, ["routes/a", "routes/b"]);
  assert.ok(status.remaining! > 25 && status.remaining! <= 30, `remaining ${status.remaining}`);
  const bare = await getJson(second.clientAddr, `/v1/lease/${lease.id}?keys=false`);
  assert.equal(bare.body.keys, undefined);
  const listed = await getJson(second.clientAddr, "/v1/leases");
  assert.ok((listed.body.leases as LeaseJson[]).some((l) => l.id === lease.id && l.ttl === 30));

  const chosen = await grant(leader, { ttl: 30, id: lease.id + 1 });
  assert.equal(chosen.id, lease.id + 1);
  const taken = await postJson(first, "/v1/lease/grant", { ttl: 30, id: lease.id + 1 });
  assert.deepEqual([taken.status, errorCode(taken.body)], [409, "lease_exists"]);

  const revoked = await postJson(second, `/v1/lease/${lease.id}/revoke`);
  assert.equal(revoked.status, 200, JSON.stringify(revoked.body));
  assert.equal((revoked.body as { deleted: number }).deleted, 2);
  for (const m of cluster.members) {
    for (const key of ["routes%2Fa", "routes%2Fb"]) {
      const r = await getJson(m.clientAddr, `/v1/kv/${key}`);
      assert.equal(r.status, 404, `${key} on ${m.name}`);
    }
  }
  const gone = await getJson(first.clientAddr, `/v1/lease/${lease.id}`);
  assert.deepEqual([gone.status, gone.body.error], [404, "lease_not_found"]);
  assert.equal((await postJson(first, `/v1/lease/${chosen.id}/revoke`)).status, 200);
}

/** Expires a lease once its client stops renewing, and deletes its keys. */
async function expiryOnceUnrenewed({ leader, followers }: Fixture): Promise<void> {
  const lease = await grant(followers[0]!, { ttl: 1 });
  assert.equal((await put(leader, "expiring", "v", lease.id)).status, 200);
  // Renewed for several TTLs, it lives.
  const renewUntil = Date.now() + 3 * lease.ttl * 1000;
  let lastSent = Date.now();
  while (Date.now() < renewUntil) {
    lastSent = Date.now();
    const r = await postJson(followers[1]!, `/v1/lease/${lease.id}/keepalive`);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  assert.equal((await getJson(leader.clientAddr, "/v1/kv/expiring")).status, 200, "renewed, the key stayed");
  await until("the key to go with its lease", async () => {
    const r = await getJson(followers[0]!.clientAddr, "/v1/kv/expiring");
    return r.status === 404 ? true : undefined;
  });
  // The last keepalive was answered after it was sent, and the lease lives a TTL from the answer.
  assert.ok(Date.now() - lastSent >= lease.ttl * 1000, "not before its TTL ran out");
  const r = await postJson(leader, `/v1/lease/${lease.id}/keepalive`);
  assert.deepEqual([r.status, errorCode(r.body)], [404, "lease_not_found"]);
}

/** Refuses bad input with 400 or 404 and writes nothing. */
async function badInputChangesNothing({ leader, followers }: Fixture): Promise<void> {
  const member = followers[0]!;
  const before = await getJson(leader.clientAddr, "/v1/leases");
  const badGrants = [{ ttl: 0 }, { ttl: -1 }, { ttl: 1.5 }, { ttl: "10" }, { ttl: 9_000_000_001 }, {}, [10]];
  for (const body of [...badGrants, { ttl: 10, id: 0 }, { ttl: 10, id: 2 ** 53 }, { ttl: 10, id: "7" }]) {
    const r = await postJson(member, "/v1/lease/grant", body);
    assert.deepEqual([r.status, errorCode(r.body)], [400, "bad_request"], JSON.stringify(body));
  }
  const notJson = await request(member.clientAddr, "POST", "/v1/lease/grant", "ttl=10");
  assert.equal(notJson.status, 400);
  for (const [method, path] of [
    ["POST", "/v1/lease/0/keepalive"],
    ["POST", "/v1/lease/x/revoke"],
    ["GET", "/v1/lease/9007199254740992"],
    ["GET", "/v1/lease/12?keys=maybe"],
  ] as const) {
    const r = await request(member.clientAddr, method, path);
    assert.deepEqual([r.status, errorCode(r.body)], [400, "bad_request"], `${method} ${path}`);
  }
  const unknown = 4_503_599_627_370_495;
  for (const [method, path] of [
    ["POST", `/v1/lease/${unknown}/keepalive`],
    ["POST", `/v1/lease/${unknown}/revoke`],
    ["GET", `/v1/lease/${unknown}`],
  ] as const) {
    const r = await request(member.clientAddr, method, path);
    assert.deepEqual([r.status, errorCode(r.body)], [404, "lease_not_found"], `${method} ${path}`);
  }
  const orphan = await put(member, "orphan", "v", unknown);
  assert.deepEqual([orphan.status, errorCode(orphan.body)], [404, "lease_not_found"]);
  const malformed = await request(member.clientAddr, "PUT", "/v1/kv/orphan?lease=-3", "v");
  assert.deepEqual([malformed.status, errorCode(malformed.body)], [400, "bad_request"]);
  const txn = await postJson(member, "/v1/txn", {
    success: [{ put: { key: "orphan", value: "v", lease: unknown } }],
  });
  assert.deepEqual([txn.status, errorCode(txn.body)], [404, "lease_not_found"]);
  const txnMalformed = await postJson(member, "/v1/txn", {
    success: [{ put: { key: "orphan", value: "v", lease: 0 } }],
  });
  assert.deepEqual([txnMalformed.status, errorCode(txnMalformed.body)], [400, "bad_request"]);

  assert.equal((await getJson(leader.clientAddr, "/v1/kv/orphan")).status, 404, "nothing was written");
  assert.deepEqual((await getJson(leader.clientAddr, "/v1/leases")).body, before.body, "no lease was granted");
}

describe("leases on a 3-process cluster", () => {
  let cluster: ProcessCluster;
  let fixture: Fixture;

  before(async () => {
    cluster = await ProcessCluster.start(3);
    const leader = await cluster.leader(30_000);
    fixture = { cluster, leader, followers: cluster.members.filter((m) => m !== leader) };
  });

  after(async () => {
    await cluster?.stop();
  });

  it("grants on a follower (forwarded), attaches keys by put and txn, renews, looks up and revokes from any member", () =>
    routesFromAnyMember(fixture));

  it("expires a lease once its client stops renewing, and deletes its keys", () => expiryOnceUnrenewed(fixture));

  it("refuses bad input with 400 or 404 and writes nothing", () => badInputChangesNothing(fixture));
});

describe("a single member stopped (SIGSTOP) for longer than a lease's TTL", () => {
  let cluster: ProcessCluster;

  before(async () => {
    cluster = await ProcessCluster.start(1);
    await cluster.leader(30_000);
  });

  after(async () => {
    await cluster?.stop();
  });

  it("keeps the lease its client went on renewing: the keepalives that waited count before expiry", async () => {
    const [only] = cluster.members as [Member];
    // The minimum TTL (1 s with the default 150 ms election timeout): the grant raises 1 to it anyway.
    const lease = await grant(only, { ttl: 1 });
    assert.equal((await put(only, "held", "v", lease.id)).status, 200);
    let renewing = true;
    const failures: string[] = [];
    const renewer = (async () => {
      while (renewing) {
        const r = await postJson(only, `/v1/lease/${lease.id}/keepalive`);
        if (r.status !== 200) failures.push(`${r.status} ${JSON.stringify(r.body)}`);
        await new Promise((resolve) => setTimeout(resolve, 300));
      }
    })();
    await new Promise((resolve) => setTimeout(resolve, 1000));
    only.process!.kill("SIGSTOP");
    await new Promise((resolve) => setTimeout(resolve, 3 * lease.ttl * 1000));
    only.process!.kill("SIGCONT");
    await new Promise((resolve) => setTimeout(resolve, 1500));
    renewing = false;
    await renewer;
    assert.deepEqual(failures, [], "every keepalive was answered with the lease alive");
    const held = await getJson(only.clientAddr, "/v1/kv/held");
    assert.equal(held.status, 200, "the key outlived the stall");
    const looked = await getJson(only.clientAddr, `/v1/lease/${lease.id}`);
    assert.equal(looked.status, 200, JSON.stringify(looked.body));
  });
});
