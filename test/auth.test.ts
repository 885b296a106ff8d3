/**
 * Authentication and permissions on real `raftkv serve` processes (docs/auth.md): the first root
 * user needs no credentials, every refusal (no token, forged, a deleted user's, a permission lacked)
 * is a 401 or 403 that changes nothing, and tokens stay valid across a leader change and a member
 * replacement. Expiry is in auth_expiry.test.ts, the in-flight revoke in auth_race.test.ts.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { agreedLeader, call, expectAnswer, secure, tokenOf, type Answer } from "./auth_helpers.js";
import { fixedEnsemble, withMembership } from "./engine_under_test.js";
import { ProcessCluster, until, type Member } from "./harness.js";

const rootPassword = "root-secret";
const alicePassword = "alice-secret";

/**
 * Moves leadership from `leader` to `to` by a transfer sent to `via` (forwarded to the leader with
 * the token, and checked there again). No transfer on a fixed ensemble (Multi-Paxos): the leader
 * goes down, another takes over, and it comes back.
 */
async function changeLeader(
  cluster: ProcessCluster,
  rootToken: string,
  { leader, to, via }: { leader: Member; to: Member; via: Member },
): Promise<void> {
  if (fixedEnsemble === false) {
    const moved = await call(via, "POST", "/v1/leader/transfer", { body: { to: to.name }, token: rootToken });
    expectAnswer(moved, 200, undefined, "transfer");
    assert.equal((await agreedLeader(cluster, rootToken)).name, to.name);
    return;
  }
  await cluster.stopMember(leader.name, "SIGKILL");
  const others = cluster.members.filter((m) => m !== leader);
  assert.notEqual((await agreedLeader(cluster, rootToken, others)).name, leader.name);
  cluster.startMember(leader.name);
  await agreedLeader(cluster, rootToken);
}

describe("auth on a 3-process cluster", () => {
  let cluster: ProcessCluster;
  let rootToken: string;
  let aliceToken: string;

  before(async () => {
    // Small snapshots, so that the member added later starts from one (format 3, with the auth state).
    cluster = await ProcessCluster.start(3, { serveArgs: ["--snapshot-entries", "20"] });
    await cluster.leader(30_000);
  });

  after(async () => {
    await cluster?.stop();
  });

  it("before auth, user add root needs no credentials; enabling without user root is refused", async () => {
    const [n1, n2, n3] = cluster.members as [Member, Member, Member];
    expectAnswer(await call(n1, "POST", "/v1/auth/enable"), 409, "no_root_user", "enable without root");
    expectAnswer(await call(n2, "GET", "/v1/auth/status"), 200, undefined, "status");
    await secure(n2, { rootPassword, user: "alice", password: alicePassword });
    for (const m of cluster.members)
      await until(`auth enabled on ${m.name}`, async () =>
        (await call(m, "GET", "/v1/auth/status")).body.enabled === true ? true : undefined,
      );
    // Authentication follows a read barrier: any member knows the users just made.
    rootToken = await tokenOf(n3, "root", rootPassword);
    aliceToken = await tokenOf(n1, "alice", alicePassword);
    expectAnswer(await call(n3, "PUT", "/v1/kv/app/k", { body: "orig", token: aliceToken }), 200, undefined, "put");
    expectAnswer(await call(n1, "POST", "/v1/auth/disable"), 401, "unauthenticated", "disable without a token");
  });

  it("every refusal answers 401 or 403, and a read afterwards shows nothing changed", async () => {
    const [n1, n2, n3] = cluster.members as [Member, Member, Member];
    const put = (m: Member, key: string, options: { token?: string; authorization?: string }): Promise<Answer> =>
      call(m, "PUT", `/v1/kv/${key}`, { body: "changed", ...options });
    const [payload] = aliceToken.split(".");
    const rootPayload = Buffer.from(JSON.stringify({ user: "root", rev: 99, exp: Date.now() + 60_000 })).toString(
      "base64url",
    );
    const aliceSignature = aliceToken.split(".")[1]!;

    // A user deleted, and a user re-created under the same name: their earlier tokens are void.
    const bob = async (): Promise<string> => {
      expectAnswer(
        await call(n1, "POST", "/v1/auth/users", { body: { name: "bob", password: "b" }, token: rootToken }),
        200,
        undefined,
        "add bob",
      );
      expectAnswer(
        await call(n1, "POST", "/v1/auth/users/bob/roles", { body: { role: "app" }, token: rootToken }),
        200,
        undefined,
        "grant bob",
      );
      return tokenOf(n2, "bob", "b");
    };
    const deletedToken = await bob();
    expectAnswer(await call(n3, "DELETE", "/v1/auth/users/bob", { token: rootToken }), 200, undefined, "delete bob");
    const recreatedToken = await bob();
    expectAnswer(await call(n2, "DELETE", "/v1/auth/users/bob", { token: rootToken }), 200, undefined, "delete bob");
    await bob();
    // A password changed: tokens issued before it are void.
    const beforeChange = await tokenOf(n1, "alice", alicePassword);
    const changed = await call(n2, "POST", "/v1/auth/users/alice/password", {
      body: { password: "alice-new" },
      token: rootToken,
    });
    expectAnswer(changed, 200, undefined, "set alice's password");
    aliceToken = await tokenOf(n3, "alice", "alice-new");

    const refusals: [string, () => Promise<Answer>, number, string][] = [
      ["no token", () => put(n1, "app/k", {}), 401, "unauthenticated"],
      ["not a bearer token", () => put(n2, "app/k", { authorization: "Basic YWxpY2U6eA==" }), 401, "invalid_token"],
      [
        "a forged signature",
        () => put(n3, "app/k", { token: `${payload}.${randomBytes(32).toString("base64url")}` }),
        401,
        "invalid_token",
      ],
      [
        "another payload under alice's signature",
        () => put(n1, "app/k", { token: `${rootPayload}.${aliceSignature}` }),
        401,
        "invalid_token",
      ],
      ["a deleted user's token", () => put(n2, "app/k", { token: deletedToken }), 401, "invalid_token"],
      [
        "a token from before the user was re-created",
        () => put(n3, "app/k", { token: recreatedToken }),
        401,
        "invalid_token",
      ],
      [
        "a token from before the password changed",
        () => put(n1, "app/k", { token: beforeChange }),
        401,
        "invalid_token",
      ],
      [
        "a write outside alice's permissions",
        () => put(n2, "secret/x", { token: aliceToken }),
        403,
        "permission_denied",
      ],
      [
        "a delete outside them",
        () => call(n3, "DELETE", "/v1/kv/secret/x", { token: aliceToken }),
        403,
        "permission_denied",
      ],
      [
        "a read outside them",
        () => call(n1, "GET", "/v1/kv/secret/x", { token: aliceToken }),
        403,
        "permission_denied",
      ],
      [
        "a range wider than them",
        () => call(n2, "GET", "/v1/kv?prefix=app", { token: aliceToken }),
        403,
        "permission_denied",
      ],
      [
        "a txn writing outside them",
        () =>
          call(n3, "POST", "/v1/txn", {
            body: { success: [{ put: { key: "app/k", value: "changed" } }, { put: { key: "secret/x", value: "v" } }] },
            token: aliceToken,
          }),
        403,
        "permission_denied",
      ],
      [
        "a watch outside them",
        () => call(n1, "GET", "/v1/watch?prefix=secret/", { token: aliceToken }),
        403,
        "permission_denied",
      ],
      [
        "a compaction (root only)",
        () => call(n2, "POST", "/v1/compact", { body: { revision: 1 }, token: aliceToken }),
        403,
        "permission_denied",
      ],
      [
        "a member removal (root only)",
        () => call(n3, "DELETE", "/v1/members/n1", { token: aliceToken }),
        403,
        "permission_denied",
      ],
      [
        "a leadership transfer (root only)",
        () => call(n1, "POST", "/v1/leader/transfer", { body: { to: "n2" }, token: aliceToken }),
        403,
        "permission_denied",
      ],
      [
        "a user added by a non-root",
        () => call(n2, "POST", "/v1/auth/users", { body: { name: "eve", password: "e" }, token: aliceToken }),
        403,
        "permission_denied",
      ],
      [
        "auth disabled by a non-root",
        () => call(n3, "POST", "/v1/auth/disable", { token: aliceToken }),
        403,
        "permission_denied",
      ],
      [
        "a wrong password",
        () => call(n1, "POST", "/v1/auth/authenticate", { body: { name: "alice", password: alicePassword } }),
        401,
        "authentication_failed",
      ],
      [
        "an unknown user",
        () => call(n1, "POST", "/v1/auth/authenticate", { body: { name: "nobody", password: "x" } }),
        401,
        "authentication_failed",
      ],
    ];
    for (const [what, send, status, code] of refusals) expectAnswer(await send(), status, code, what);

    const read = await call(n1, "GET", "/v1/kv/app/k", { token: rootToken });
    expectAnswer(read, 200, undefined, "read app/k");
    assert.equal(read.body.value, "orig");
    expectAnswer(await call(n2, "GET", "/v1/kv/secret/x", { token: rootToken }), 404, "not_found", "read secret/x");
    const users = await call(n3, "GET", "/v1/auth/users", { token: rootToken });
    assert.deepEqual(users.body.users, ["alice", "bob", "root"]);
    const members = await call(n1, "GET", "/v1/members", { token: rootToken });
    assert.equal((members.body.members as unknown[]).length, 3);
    expectAnswer(await call(n2, "GET", "/v1/auth/status"), 200, undefined, "status");
    // The user itself may see its own record; not another's.
    expectAnswer(await call(n1, "GET", "/v1/auth/users/alice", { token: aliceToken }), 200, undefined, "own record");
    expectAnswer(
      await call(n1, "GET", "/v1/auth/users/root", { token: aliceToken }),
      403,
      "permission_denied",
      "root's record",
    );
  });

  it("tokens stay valid across a leader change, at every member", async () => {
    const leader = await agreedLeader(cluster, rootToken);
    const to = cluster.members.find((m) => m !== leader)!;
    const follower = cluster.members.find((m) => m !== leader && m !== to)!;
    await changeLeader(cluster, rootToken, { leader, to, via: follower });
    for (const m of cluster.members) {
      expectAnswer(
        await call(m, "PUT", `/v1/kv/app/after-${m.name}`, { body: "v", token: aliceToken }),
        200,
        undefined,
        `put at ${m.name}`,
      );
      expectAnswer(await call(m, "GET", "/v1/kv/app/k", { token: aliceToken }), 200, undefined, `get at ${m.name}`);
      expectAnswer(
        await call(m, "GET", "/v1/kv/app/k?consistency=lease", { token: aliceToken }),
        200,
        undefined,
        `lease read at ${m.name}`,
      );
    }
  });

  it("tokens stay valid across a member replacement: the new member verifies them too", withMembership, async () => {
    const leader = await agreedLeader(cluster, rootToken);
    const leaving = cluster.members.find((m) => m !== leader && m.process !== undefined)!;
    // Enough entries that the new member starts from a snapshot.
    for (let i = 0; i < 30; i++)
      expectAnswer(
        await call(leader, "PUT", `/v1/kv/app/fill-${i}`, { body: "v", token: aliceToken }),
        200,
        undefined,
        "fill",
      );
    expectAnswer(
      await call(leader, "DELETE", `/v1/members/${leaving.name}`, { token: rootToken }),
      200,
      undefined,
      "remove",
    );
    await cluster.stopMember(leaving.name, "SIGTERM");
    const remaining = cluster.members.filter((m) => m.process !== undefined);
    const fresh = await cluster.startSpare("n4", remaining);
    const added = await call(leader, "POST", "/v1/members", {
      body: { id: "n4", peerAddr: fresh.peerAddr },
      token: rootToken,
    });
    expectAnswer(added, 200, undefined, "add n4");
    const read = await until("a read on n4 with alice's token", async () => {
      const r = await call(fresh, "GET", "/v1/kv/app/k", { token: aliceToken });
      return r.status === 200 ? r : undefined;
    });
    assert.equal(read.body.value, "orig");
    expectAnswer(
      await call(fresh, "PUT", "/v1/kv/app/on-n4", { body: "v", token: aliceToken }),
      200,
      undefined,
      "put on n4",
    );
    expectAnswer(
      await call(fresh, "PUT", "/v1/kv/secret/on-n4", { body: "v", token: aliceToken }),
      403,
      "permission_denied",
      "denied on n4",
    );
    expectAnswer(await call(fresh, "GET", "/v1/kv/app/fill-29", { token: rootToken }), 200, undefined, "root on n4");
  });
});
