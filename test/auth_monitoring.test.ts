/**
 * The monitoring routes with auth on: open by default, closed to callers without a token when the
 * member runs with --monitoring-needs-auth.
 */
import assert from "node:assert/strict";
import { after, test } from "node:test";
import { call, secure, tokenOf } from "./auth_helpers.js";
import { ProcessCluster } from "./harness.js";

const open = await ProcessCluster.start(1);
const closed = await ProcessCluster.start(1, { serveArgs: ["--monitoring-needs-auth"] });
after(() => Promise.all([open.stop(), closed.stop()]));

test("/metrics, /healthz and /readyz stay open with auth on, unless --monitoring-needs-auth", async () => {
  const accounts = { rootPassword: "root-secret", user: "watcher", password: "watcher-secret" };
  for (const cluster of [open, closed]) await secure(await cluster.leader(30_000), accounts);
  const [openMember, closedMember] = [open.members[0]!, closed.members[0]!];
  const token = await tokenOf(closedMember, "watcher", "watcher-secret");
  for (const path of ["/metrics", "/healthz", "/readyz"]) {
    assert.equal((await call(openMember, "GET", path)).status, 200, `${path} without a token, default`);
    assert.equal((await call(closedMember, "GET", path)).status, 401, `${path} without a token, closed`);
    assert.equal((await call(closedMember, "GET", path, { token })).status, 200, `${path} with a token, closed`);
  }
});
