/**
 * A role revoked while a write is in flight (docs/auth.md, "The apply-time check"): a follower cut
 * off from the others accepts alice's write by the auth state it has, and its proposal lands in the
 * log after the revoke the leader committed meanwhile; the write is refused when applied, everywhere.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { nodeIdOf } from "raftkv";
import { agreedLeader, call, expectAnswer, secure, tokenOf } from "./auth_helpers.js";
import { PeerProxy, type ProxyRoute } from "./fault/proxy.js";
import { ProcessCluster, until, type Member } from "./harness.js";

const rootPassword = "root-secret";
const alicePassword = "alice-secret";

const proxyRoute = (m: Member): ProxyRoute => ({
  name: m.name,
  id: nodeIdOf(m.name),
  listen: m.peerAddr,
  target: m.listenPeerAddr,
});

describe("auth: a role revoked while a write is in flight", () => {
  let cluster: ProcessCluster;
  let proxy: PeerProxy;

  before(async () => {
    // Long enough an election timeout that the follower cut off below keeps its leader meanwhile.
    cluster = await ProcessCluster.create(3, {
      privatePeerPorts: true,
      serveArgs: ["--election-timeout-ms", "1500", "--heartbeat-ms", "100"],
    });
    proxy = await PeerProxy.start(cluster.members.map(proxyRoute));
    for (const m of cluster.members) cluster.startMember(m.name);
    await cluster.leader(30_000);
  });

  after(async () => {
    await cluster?.stop();
    await proxy?.close();
  });

  it("the revoke committed first wins: the write, accepted by a member that had not seen it, is refused when applied", async () => {
    await secure(cluster.members[0]!, { rootPassword, user: "alice", password: alicePassword });
    const rootToken = await tokenOf(cluster.members[0]!, "root", rootPassword);
    const leader = await agreedLeader(cluster, rootToken);
    const follower = cluster.members.find((m) => m !== leader)!;
    const other = cluster.members.find((m) => m !== leader && m !== follower)!;
    const aliceToken = await tokenOf(follower, "alice", alicePassword);
    expectAnswer(
      await call(follower, "PUT", "/v1/kv/app/warm", { body: "v", token: aliceToken }),
      200,
      undefined,
      "warm-up",
    );
    const before = (await call(follower, "GET", "/v1/auth/status")).body.revision;

    // The follower hears nothing more (its own messages still reach the others): it will accept the
    // write by the auth state it has, and its proposal lands after the revoke in the log.
    proxy.setLink(leader.name, follower.name, false);
    proxy.setLink(other.name, follower.name, false);
    try {
      const revoked = await call(leader, "DELETE", "/v1/auth/users/alice/roles/app", { token: rootToken });
      expectAnswer(revoked, 200, undefined, "revoke");
      assert.equal((await call(follower, "GET", "/v1/auth/status")).body.revision, before, "the follower is behind");
      const appliedAfterRevoke = (await call(leader, "GET", "/v1/status", { token: rootToken })).body
        .appliedIndex as number;
      const write = call(follower, "PUT", "/v1/kv/app/race", { body: "late", token: aliceToken });
      await until("the write's entry applied on the leader", async () => {
        const s = await call(leader, "GET", "/v1/status", { token: rootToken });
        return (s.body.appliedIndex as number) > appliedAfterRevoke ? true : undefined;
      });
      proxy.heal();
      const answer = await write;
      expectAnswer(answer, 403, "permission_denied", "the in-flight write");
      assert.match(String(answer.body.message), /before it was applied/, "refused at apply time, not at the request");
    } finally {
      proxy.heal();
    }
    for (const m of cluster.members)
      expectAnswer(
        await call(m, "GET", "/v1/kv/app/race", { token: rootToken }),
        404,
        "not_found",
        `app/race on ${m.name}`,
      );
  });
});
