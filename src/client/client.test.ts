import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { deadEndpoint, startFakeServer, type FakeServer } from "./fake_server.test.helper.js";
import { fetchTransport, nodeHttpTransport, RaftkvClient, RaftkvError, type HttpTransport } from "./index.js";

const transports: [string, () => HttpTransport][] = [
  ["node:http", () => nodeHttpTransport()],
  ["fetch", () => fetchTransport()],
];

for (const [name, makeTransport] of transports) {
  describe(`RaftkvClient over ${name}`, () => {
    let transport: HttpTransport;
    const servers: FakeServer[] = [];
    const server = async (): Promise<FakeServer> => {
      const s = await startFakeServer();
      servers.push(s);
      return s;
    };
    const client = (
      endpoints: string[],
      options: { timeoutMs?: number; writesInFlightMax?: number } = {},
    ): RaftkvClient => new RaftkvClient({ endpoints, transport, timeoutMs: options.timeoutMs ?? 3000, ...options });

    before(() => {
      transport = makeTransport();
    });
    after(async () => {
      transport.close();
      await Promise.all(servers.map((s) => s.close()));
    });

    test("put, get, delete round trip with revisions and text", async () => {
      const s = await server();
      const c = client([s.label]);
      assert.deepEqual(await c.put("greeting", "hello"), { revision: 1 });
      assert.deepEqual(await c.put("greeting", "hej"), { revision: 2 });
      const kv = await c.get("greeting");
      assert.equal(kv?.text, "hej");
      assert.equal(kv.keyText, "greeting");
      assert.deepEqual([kv.createRevision, kv.modRevision, kv.version], [1, 2, 2]);
      assert.deepEqual(await c.delete("greeting"), { revision: 3, deleted: true });
      assert.deepEqual(await c.delete("greeting"), { revision: 3, deleted: false });
      assert.equal(await c.get("greeting"), undefined);
    });

    test("non-UTF-8 keys and values round-trip exactly (path, query and base64 JSON)", async () => {
      const s = await server();
      const c = client([s.label]);
      const key = Uint8Array.from([0xff, 0x00, 0x2f, 0x80, 0x25, 0x3f, 0x20]); // includes "/", "%", "?", " "
      const value = Uint8Array.from([0xc3, 0x28, 0xff, 0x00, 0xfe, 0x0a]);
      await c.put(key, value);
      assert.deepEqual([...(s.kv.values().next().value?.key ?? [])], [...key], "the server got the exact key bytes");
      const kv = await c.get(key);
      assert.deepEqual(kv?.value, value);
      assert.deepEqual(kv.key, key);
      const range = await c.range({ prefix: Uint8Array.from([0xff, 0x00]) });
      assert.deepEqual(
        range.kvs.map((x) => [...x.value]),
        [[...value]],
      );
      const cas = await c.cas(key, value, Uint8Array.from([0x80]));
      assert.equal(cas.succeeded, true);
      assert.deepEqual((await c.get(key))?.value, Uint8Array.from([0x80]));
      const unicode = "ключ/ü ?&=+#";
      await c.put(unicode, "значение");
      assert.equal((await c.get(unicode))?.text, "значение");
    });

    test("leader discovery skips a dead endpoint and a 503 one, then remembers the one that answered", async () => {
      const dead = await deadEndpoint();
      const noLeader = await server();
      noLeader.unavailable = "no_leader";
      const good = await server();
      const c = client([dead, noLeader.label, good.label]);
      assert.deepEqual(await c.put("k", "v"), { revision: 1 });
      assert.equal(noLeader.requests.length, 1);
      assert.equal(good.requests.length, 1);
      assert.equal((await c.get("k"))?.text, "v");
      assert.equal(noLeader.requests.length, 1, "the next call went straight to the endpoint that answered");
      assert.equal(good.requests.length, 2);
    });

    test("a retry after an unknown outcome re-sends the same (client id, seq); the write applies once", async () => {
      const s = await server();
      const c = client([s.label]);
      s.faults.push("apply-then-drop", "apply-then-504");
      assert.deepEqual(await c.put("a", "1"), { revision: 1 });
      assert.equal(s.requests.length, 3);
      const [first, ...retries] = s.requests;
      assert.ok(first?.clientId !== undefined && first.seq !== undefined);
      for (const r of retries) assert.deepEqual([r.clientId, r.seq], [first.clientId, first.seq]);
      assert.equal(s.applied, 1);
      assert.equal(first.clientId, c.clientId);
      await c.put("a", "2");
      assert.equal(s.requests.at(-1)?.seq, String(Number(first.seq) + 1), "the next write takes the next seq");
    });

    test("a 4xx is thrown as a RaftkvError and not retried", async () => {
      const s = await server();
      const c = client([s.label]);
      await assert.rejects(c.addMember("n1", "127.0.0.1:7009"), (e: unknown) => {
        assert.ok(e instanceof RaftkvError);
        assert.deepEqual([e.code, e.status, e.endpoint], ["member_exists", 409, s.label]);
        assert.match(e.message, /n1 is a member/);
        return true;
      });
      assert.equal(s.requests.length, 1);
      await assert.rejects(c.promoteMember("n1"), { code: "not_learner", status: 400 });
      assert.equal(s.requests.length, 2);
    });

    test("409 compare_failed is a CAS result; put ifRevision and cas both report the current value", async () => {
      const s = await server();
      const c = client([s.label]);
      assert.deepEqual(await c.put("x", "1", { ifRevision: 0 }), { succeeded: true, revision: 1 });
      const failed = await c.put("x", "2", { ifRevision: 0 });
      assert.equal(failed.succeeded, false);
      assert.equal(failed.current?.text, "1");
      assert.deepEqual(await c.put("x", "2", { ifRevision: 1 }), { succeeded: true, revision: 2 });
      const casFailed = await c.cas("x", "1", "3");
      assert.equal(casFailed.succeeded, false);
      assert.equal(casFailed.current?.text, "2");
      assert.deepEqual(await c.cas("x", "2", "3"), { succeeded: true, revision: 3 });
      assert.deepEqual(await c.cas("y", null, "new"), { succeeded: true, revision: 4 });
      const absent = await c.cas("z", "anything", "v");
      assert.deepEqual(absent, { succeeded: false, current: undefined });
      assert.equal((await c.cas("y", null, "again")).succeeded, false);
    });

    test("a write whose every attempt is unknown fails with unknown_outcome; definite failures with unavailable", async () => {
      const s = await server();
      const c = new RaftkvClient({ endpoints: [s.label], transport, timeoutMs: 2000, retries: 3 });
      s.faults.push("504", "504", "504", "504", "504");
      await assert.rejects(c.put("k", "v"), { code: "unknown_outcome" });
      assert.equal(s.requests.length, 4, "retries bound the attempts");
      assert.equal(new Set(s.requests.map((r) => r.seq)).size, 1);
      s.faults.length = 0;
      s.unavailable = "not_ready";
      await assert.rejects(
        c.put("k", "v"),
        (e: unknown) => e instanceof RaftkvError && e.code === "unavailable" && /not_ready/.test(e.message),
      );
      s.unavailable = undefined;
      s.faults.push("504", "504", "504", "504");
      await assert.rejects(c.get("k"), { code: "unavailable" }, "a read is never unknown");
      // Bounded by retries, not a short budget: an attempt a budget cuts off mid-flight is unknown.
      const dead = [await deadEndpoint(), await deadEndpoint()];
      const nobody = new RaftkvClient({ endpoints: dead, transport, timeoutMs: 10_000, retries: 1 });
      await assert.rejects(nobody.put("k", "v"), { code: "unavailable" }, "refused connections are definite");
    });

    test("concurrent writes each take a session of their own, bounded by writesInFlightMax", async () => {
      const s = await server();
      const c = client([s.label], { writesInFlightMax: 2 });
      await Promise.all(Array.from({ length: 6 }, (_, i) => c.put(`k${i}`, "v")));
      const pairs = s.requests.map((r) => `${r.clientId}#${r.seq}`);
      assert.equal(new Set(pairs).size, 6, "no (client id, seq) pair is used twice");
      assert.deepEqual(new Set(s.requests.map((r) => r.clientId)), new Set([c.clientId, `${c.clientId}.1`]));
    });

    test("range by prefix, by [from, to) and with a limit", async () => {
      const s = await server();
      const c = client([s.label]);
      for (const k of ["a", "b/1", "b/2", "b/3", "c"]) await c.put(k, k.toUpperCase());
      assert.deepEqual(
        (await c.range({ prefix: "b/" })).kvs.map((kv) => kv.text),
        ["B/1", "B/2", "B/3"],
      );
      assert.deepEqual(
        (await c.range({ from: "b/2", to: "c" })).kvs.map((kv) => kv.keyText),
        ["b/2", "b/3"],
      );
      const limited = await c.range({ from: "a" }, { limit: 2 });
      assert.deepEqual([limited.kvs.length, limited.more, limited.revision], [2, true, 5]);
    });

    test("txn runs one branch atomically and reports each op", async () => {
      const s = await server();
      const c = client([s.label]);
      await c.put("k", "v1");
      const result = await c.txn({
        compare: [{ key: "k", modRevision: 1 }],
        success: [
          { type: "put", key: "k2", value: "x" },
          { type: "get", key: "k" },
          { type: "delete", key: "k" },
        ],
        failure: [],
      });
      assert.equal(result.succeeded, true);
      assert.deepEqual(
        result.responses.map((r) => r.type),
        ["put", "get", "delete"],
      );
      const [, get, del] = result.responses;
      assert.equal(get?.type === "get" && get.kv?.text, "v1");
      assert.equal(del?.type === "delete" && del.deleted, true);
      await assert.rejects(c.txn({ compare: [{ key: "k" }] }), RangeError);
    });

    test("status, members and membership changes", async () => {
      const s = await server();
      const c = client([s.label]);
      const status = await c.status();
      assert.deepEqual(
        [status.id, status.role, status.leader, status.term, status.members.length],
        ["n1", "leader", "n1", 3, 1],
      );
      assert.equal((await c.status({ endpoint: s.label })).id, "n1");
      await assert.rejects(c.status({ endpoint: await deadEndpoint() }), { code: "unavailable" });
      assert.deepEqual(await c.addMember("n4", "127.0.0.1:7004", { learner: true }), [
        { id: "n1", peerAddr: "127.0.0.1:7001", learner: false },
        { id: "n4", peerAddr: "127.0.0.1:7004", learner: true },
      ]);
      assert.equal((await c.promoteMember("n4")).find((m) => m.id === "n4")?.learner, false);
      assert.deepEqual(
        (await c.removeMember("n4")).map((m) => m.id),
        ["n1"],
      );
      assert.deepEqual(
        (await c.members()).map((m) => m.id),
        ["n1"],
      );
      await c.transferLeader("n1");
      const write = s.requests.find((r) => r.url === "/v1/members");
      assert.ok(write?.clientId !== undefined && write.seq !== undefined, "membership changes carry a session too");
    });

    test("a malformed answer is a bad_response error", async () => {
      const s = await server();
      const c = client([s.label]);
      s.faults.push("garbage");
      await assert.rejects(
        c.get("k"),
        (e: unknown) => e instanceof RaftkvError && e.code === "bad_response" && e.status === 200,
      );
      s.faults.push("garbage");
      await assert.rejects(c.members(), { code: "bad_response" });
    });
  });
}

test("options are validated", () => {
  assert.throws(() => new RaftkvClient({ endpoints: [] }), /no endpoints/);
  assert.throws(() => new RaftkvClient({ endpoints: "localhost" }), /bad endpoint "localhost"/);
  assert.throws(() => new RaftkvClient({ endpoints: "a:1", clientId: "has space" }), /clientId/);
  assert.throws(() => new RaftkvClient({ endpoints: "a:1", timeoutMs: 0 }), /timeoutMs/);
  const c = new RaftkvClient({ endpoints: "http://127.0.0.1:1,[::1]:2" });
  assert.match(c.clientId, /^[A-Za-z0-9_-]{16}$/);
  c.close();
});
