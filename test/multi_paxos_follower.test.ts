/**
 * A Multi-Paxos follower passes every kind of proposal to its leader inside the engine (a
 * "propose" message on the peer link, as Raft's MsgProp), whoever proposes it: a KV write, an etcd
 * gRPC Put, a compaction, an auth change, a lease revoke. Each answers 200 on the follower, from the
 * follower's own apply, and the leader sees it.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { Etcd3 } from "etcd3";
import { ProcessCluster, request, until, type Member } from "./harness.js";

/** Sends a request until the member answers something other than 503 (it may not know the leader yet). */
async function answered(m: Member, method: string, path: string, body?: unknown): Promise<Record<string, unknown>> {
  const text = body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body);
  const r = await until(
    `${method} ${path} on ${m.name}`,
    async () => {
      const answer = await request(m.clientAddr, method, path, text);
      return answer.status === 503 ? undefined : answer;
    },
    30_000,
  );
  assert.equal(r.status, 200, `${method} ${path} on ${m.name}: ${JSON.stringify(r.body)}`);
  return r.body as Record<string, unknown>;
}

describe("a Multi-Paxos follower's proposals reach the leader", () => {
  let cluster: ProcessCluster;
  let leader: Member;
  let follower: Member;

  before(async () => {
    cluster = await ProcessCluster.start(3, { serveArgs: ["--engine", "multi-paxos"] });
    leader = await cluster.leader(30_000);
    follower = cluster.members.find((m) => m !== leader)!;
  });

  after(async () => {
    await cluster.stop();
  });

  it("a KV write, an etcd Put, a compaction, an auth change and a lease revoke on a follower succeed", async () => {
    const put = await answered(follower, "PUT", "/v1/kv/through-follower", "v1");
    assert.ok(typeof put.revision === "number" && put.revision > 0);

    const etcd = new Etcd3({ hosts: `http://${follower.clientAddr}`, dialTimeout: 5_000 });
    try {
      await until(
        "an etcd Put through the follower",
        async () => {
          await etcd.put("etcd-through-follower").value("v2");
          return true;
        },
        30_000,
      );
    } finally {
      etcd.close();
    }

    const written = await answered(leader, "GET", "/v1/kv/etcd-through-follower");
    assert.equal(written.value, "v2");
    const compacted = await answered(follower, "POST", "/v1/compact", { revision: put.revision });
    assert.equal(compacted.compactRevision, put.revision);

    await answered(follower, "POST", "/v1/auth/users", { name: "alice", password: "secret" });
    const users = await answered(leader, "GET", "/v1/auth/users");
    assert.ok((users.users as unknown[]).includes("alice"), JSON.stringify(users));

    const lease = await answered(follower, "POST", "/v1/lease/grant", { ttl: 60 });
    await answered(follower, "PUT", `/v1/kv/leased?lease=${lease.id as number}`, "v3");
    const revoked = await answered(follower, "POST", `/v1/lease/${lease.id as number}/revoke`);
    assert.equal(revoked.deleted, 1);
    const gone = await request(leader.clientAddr, "GET", "/v1/kv/leased");
    assert.equal(gone.status, 404, "the leased key went with its lease");
  });
});
