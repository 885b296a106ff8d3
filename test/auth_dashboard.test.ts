/**
 * The dashboard with auth on: the member asked for the cluster view gathers the others' views with
 * the caller's token, and a page served by another member may fetch the views with its token (the
 * browser's preflight is answered).
 */
import assert from "node:assert/strict";
import { after, test } from "node:test";
import { call, expectAnswer, secure, tokenOf } from "./auth_helpers.js";
import { ProcessCluster, request, until, type Member } from "./harness.js";

const cluster = await ProcessCluster.start(3);
after(() => cluster.stop());

test("the cluster view reaches every member with the caller's token; its preflight is open", async () => {
  const leader = await cluster.leader(30_000);
  await secure(leader, { rootPassword: "root-secret", user: "viewer", password: "viewer-secret" });
  const [n1] = cluster.members as [Member];
  const token = await tokenOf(n1, "viewer", "viewer-secret");
  expectAnswer(await call(n1, "GET", "/v1/cluster"), 401, "unauthenticated", "cluster view without a token");
  const members = await until(
    "every member reachable in the cluster view",
    async () => {
      const view = await call(n1, "GET", "/v1/cluster", { token });
      const list = view.body.members as { reachable: boolean }[] | undefined;
      return view.status === 200 && list?.length === 3 && list.every((m) => m.reachable) ? list : undefined;
    },
    30_000,
  );
  assert.equal(members.length, 3);
  const preflight = await request(n1.clientAddr, "OPTIONS", "/v1/cluster/member", undefined, {
    origin: "http://127.0.0.1:1",
    "access-control-request-method": "GET",
    "access-control-request-headers": "authorization",
  });
  assert.equal(preflight.status, 204);
});
