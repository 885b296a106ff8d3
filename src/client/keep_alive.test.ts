import assert from "node:assert/strict";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, test } from "node:test";
import { RaftkvClient, RaftkvError, type Lease } from "./index.js";

/** Answers batch keepalives of lease 7 as `answer` says: a TTL, lease_not_found, or 503 (no leader). */
describe("background keepalive", () => {
  let server: http.Server;
  let endpoint: string;
  let answer: "ttl1" | "ttl3" | "gone" | "no_leader" = "ttl3";
  const paths: string[] = [];
  before(async () => {
    server = http.createServer((req, res) => {
      paths.push(`${req.method} ${req.url}`);
      const [status, body] =
        answer === "gone"
          ? [200, { leases: [{ id: 7, error: "lease_not_found" }] }]
          : answer === "no_leader"
            ? [503, { error: "no_leader", message: "no leader" }]
            : [200, { leases: [{ id: 7, ttl: answer === "ttl1" ? 1 : 3 }] }];
      res.writeHead(status, { "content-type": "application/json" });
      res.end(JSON.stringify(body));
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    endpoint = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const client = (): RaftkvClient => new RaftkvClient({ endpoints: endpoint, timeoutMs: 300, attemptTimeoutMs: 100 });

  test("renews until stopped, reporting each renewal; stop() ends it as stopped", async () => {
    answer = "ttl3";
    paths.length = 0;
    const renewals: Lease[] = [];
    const c = client();
    const keepAlive = c.keepAlive(7, { intervalMs: 20, onRenewed: (lease) => renewals.push(lease) });
    await until(() => renewals.length >= 3);
    keepAlive.stop();
    assert.deepEqual(await keepAlive.done, { reason: "stopped" });
    assert.deepEqual(renewals[0], { id: 7, ttl: 3 });
    assert.ok(paths.every((p) => p === "POST /v1/lease/keepalive"));
    c.close();
  });

  test("a lease the cluster says is gone ends it as lost, with lease_not_found", async () => {
    answer = "gone";
    const c = client();
    const end = await c.keepAlive(7, { intervalMs: 20 }).done;
    assert.equal(end.reason, "lost");
    assert.ok(end.reason === "lost" && end.error.code === "lease_not_found" && end.error.status === 404);
    c.close();
  });

  test("no renewal acknowledged within the TTL ends it as lost, with lease_expired, even while calls go on", async () => {
    answer = "ttl1";
    const c = client();
    const keepAlive = c.keepAlive(7, {
      intervalMs: 50,
      onRenewed: () => {
        answer = "no_leader";
      },
    });
    const end = await keepAlive.done;
    assert.ok(end.reason === "lost");
    assert.ok(end.error instanceof RaftkvError);
    assert.equal(end.error.code, "lease_expired");
    assert.match(end.error.message, /lease 7: no keepalive was acknowledged within its TTL of 1 s/);
    c.close();
  });

  test("a bad lease id is refused at once", () => {
    const c = client();
    assert.throws(() => c.keepAlive(0), /a lease id is a positive integer/);
    assert.throws(() => c.keepAlive(1, { intervalMs: 0 }), /intervalMs must be positive/);
    c.close();
  });
});

async function until(condition: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error("timed out waiting for a condition");
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
