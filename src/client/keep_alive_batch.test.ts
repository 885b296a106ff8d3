import assert from "node:assert/strict";
import { after, before, beforeEach, test } from "node:test";
import { startFakeServer, type FakeServer, type RecordedRequest } from "./fake_server.test.helper.js";
import { RaftkvClient, type KeepAlive, type KeepAliveEnd, type Lease } from "./index.js";
import { keepAliveBatchMax } from "./keep_alive_batch.js";

// Background keepalives of one client share batch keepalives: POST /v1/lease/keepalive {"ids": [...]}.
let server: FakeServer;
before(async () => {
  server = await startFakeServer();
});
after(() => server.close());
beforeEach(() => {
  server.requests.length = 0;
  server.faults.length = 0;
  server.leases.clear();
});

const client = (retries = 3, attemptTimeoutMs = 200): RaftkvClient =>
  new RaftkvClient({
    endpoints: server.label,
    timeoutMs: Math.max(1000, 2 * attemptTimeoutMs),
    attemptTimeoutMs,
    retries,
  });
const idsOf = (request: RecordedRequest): number[] => (JSON.parse(request.body.toString()) as { ids: number[] }).ids;

/** Starts keepalives of `ids` (renewing every `intervalMs`), collecting their renewals and ends. */
function start(c: RaftkvClient, ids: readonly number[], intervalMs = 60_000) {
  const renewals = new Map<number, Lease[]>(ids.map((id) => [id, []]));
  const ended = new Map<number, KeepAliveEnd>();
  const keepAlives: KeepAlive[] = ids.map((id) => {
    const keepAlive = c.keepAlive(id, { intervalMs, onRenewed: (lease) => renewals.get(id)?.push(lease) });
    void keepAlive.done.then((end) => ended.set(id, end));
    return keepAlive;
  });
  const stop = async (): Promise<void> => {
    for (const k of keepAlives) k.stop();
    await Promise.all(keepAlives.map((k) => k.done));
  };
  return { renewals, ended, stop };
}

test("keepalives started together go out as one batch request, each getting its own TTL", async () => {
  const ids = Array.from({ length: 50 }, (_, i) => i + 1);
  for (const id of ids) server.leases.set(id, 10 + id);
  const c = client();
  const run = start(c, ids);
  await until(() => [...run.renewals.values()].every((r) => r.length === 1));
  assert.deepEqual(
    server.requests.map((r) => `${r.method} ${r.url}`),
    ["POST /v1/lease/keepalive"],
  );
  assert.deepEqual(idsOf(server.requests[0]!), ids);
  for (const id of ids) assert.deepEqual(run.renewals.get(id), [{ id, ttl: 10 + id }]);
  await run.stop();
  c.close();
});

test("a per-id lease_not_found ends only that keepalive, as lost; the others renew on", async () => {
  for (const id of [1, 2, 4]) server.leases.set(id, 5);
  const c = client();
  const run = start(c, [1, 2, 3, 4], 20);
  await until(() => run.ended.has(3) && [1, 2, 4].every((id) => (run.renewals.get(id)?.length ?? 0) >= 3));
  const end = run.ended.get(3);
  assert.ok(end?.reason === "lost");
  assert.equal(end.error.code, "lease_not_found");
  assert.equal(end.error.status, 404);
  assert.match(end.error.message, /lease 3 does not exist/);
  assert.deepEqual([...run.ended.keys()], [3]);
  assert.deepEqual(idsOf(server.requests[0]!), [1, 2, 3, 4]);
  // Lease 3 is no longer asked for once it was lost.
  assert.ok(server.requests.slice(1).every((r) => !idsOf(r).includes(3)));
  await run.stop();
  assert.deepEqual(
    [1, 2, 4].map((id) => run.ended.get(id)?.reason),
    ["stopped", "stopped", "stopped"],
  );
  c.close();
});

test(`more than ${keepAliveBatchMax} renewals split into requests of at most ${keepAliveBatchMax} ids`, async () => {
  const ids = Array.from({ length: 2500 }, (_, i) => i + 1);
  for (const id of ids) server.leases.set(id, 30);
  // Answering 1000 ids can take longer than a short attempt timeout on a busy machine, and a retried
  // batch would be a fourth request.
  const c = client(3, 10_000);
  const run = start(c, ids);
  await until(() => [...run.renewals.values()].every((r) => r.length === 1));
  assert.ok(server.requests.every((r) => r.url === "/v1/lease/keepalive"));
  assert.deepEqual(
    server.requests.map((r) => idsOf(r).length),
    [1000, 1000, 500],
  );
  assert.deepEqual(
    server.requests.flatMap(idsOf).sort((a, b) => a - b),
    ids,
  );
  await run.stop();
  c.close();
});

test("a failed batch is retried, still as one batch, and then renews every lease", async () => {
  const ids = [11, 12, 13];
  for (const id of ids) server.leases.set(id, 7);
  server.faults.push("503", "drop", "504");
  const c = client(0); // no retries in the caller: each failure reaches the keepalives
  const run = start(c, ids, 20);
  await until(() => ids.every((id) => (run.renewals.get(id)?.length ?? 0) >= 1));
  assert.equal(run.ended.size, 0, "no keepalive ended over failures within the TTL");
  assert.ok(server.requests.length >= 4);
  for (const request of server.requests.slice(0, 4)) assert.deepEqual(idsOf(request), ids);
  assert.deepEqual(run.renewals.get(11)?.[0], { id: 11, ttl: 7 });
  await run.stop();
  c.close();
});

test("leaseKeepAlive (one explicit renewal) still uses the single-lease route", async () => {
  server.leases.set(9, 4);
  const c = client();
  assert.deepEqual(await c.leaseKeepAlive(9), { id: 9, ttl: 4 });
  await assert.rejects(c.leaseKeepAlive(10), { code: "lease_not_found", status: 404 });
  assert.deepEqual(
    server.requests.map((r) => r.url),
    ["/v1/lease/9/keepalive", "/v1/lease/10/keepalive"],
  );
  c.close();
});

async function until(condition: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error("timed out waiting for a condition");
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
