/**
 * Token expiry and the limit on failed authentications, on one `raftkv serve` whose tokens last a
 * second (docs/auth.md).
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { call, expectAnswer, secure, tokenOf } from "./auth_helpers.js";
import { ProcessCluster, until } from "./harness.js";

const rootPassword = "root-secret";
const alicePassword = "alice-secret";

describe("auth: token expiry and failed-authentication limits on one member", () => {
  let cluster: ProcessCluster;

  before(async () => {
    cluster = await ProcessCluster.start(1, { serveArgs: ["--auth-token-ttl", "1s"] });
    await cluster.leader(30_000);
  });

  after(async () => {
    await cluster?.stop();
  });

  it("an expired token is refused with token_expired and changes nothing", async () => {
    const m = cluster.members[0]!;
    await secure(m, { rootPassword, user: "alice", password: alicePassword });
    // Retried with a fresh token: a one-second token may expire before a slow first write lands.
    await until("a first write", async () => {
      const r = await call(m, "PUT", "/v1/kv/app/k", { body: "orig", token: await tokenOf(m, "alice", alicePassword) });
      return r.status === 200 ? true : undefined;
    });
    const token = await tokenOf(m, "alice", alicePassword);
    await until("the token to expire", async () => {
      const r = await call(m, "GET", "/v1/kv/app/k", { token });
      return r.status === 401 ? true : undefined;
    });
    expectAnswer(await call(m, "PUT", "/v1/kv/app/k", { body: "changed", token }), 401, "token_expired", "expired put");
    const read = await until("a read with a fresh token", async () => {
      const r = await call(m, "GET", "/v1/kv/app/k", { token: await tokenOf(m, "root", rootPassword) });
      return r.status === 200 ? r : undefined;
    });
    assert.equal(read.body.value, "orig");
  });

  it("after five failures from one address, authentication answers 429 with retry-after, then recovers", async () => {
    const m = cluster.members[0]!;
    const attempt = (password: string): Promise<Response> =>
      fetch(`http://${m.clientAddr}/v1/auth/authenticate`, {
        method: "POST",
        body: JSON.stringify({ name: "alice", password }),
      });
    const statuses: number[] = [];
    let limited: { response: Response; body: string } | undefined;
    for (let i = 0; i < 20 && limited === undefined; i++) {
      const response = await attempt("wrong");
      const body = await response.text();
      statuses.push(response.status);
      if (response.status === 429) limited = { response, body };
    }
    assert.ok(limited !== undefined, `never limited: ${statuses.join(",")}`);
    assert.ok(
      statuses.slice(0, 5).every((s) => s === 401),
      statuses.join(","),
    );
    assert.match(limited.response.headers.get("retry-after") ?? "", /^\d+$/);
    assert.equal((JSON.parse(limited.body) as { error: string }).error, "too_many_attempts");
    await until("authentication allowed again", async () =>
      (await attempt(alicePassword)).status === 200 ? true : undefined,
    );
  });
});
