/**
 * Debian's etcdctl (3.4) drives raftkv's Auth service over etcd's gRPC API: users, roles, prefix
 * and key permissions, `auth enable`, reads as root, as a user with a permission and as no one,
 * the refusals, `auth disable`. Every line must be what a real etcd 3.4.23 printed for the same
 * script (test/etcd_compat/auth.golden.txt, made by `npm run compare:etcd -- --write-golden`).
 * Then what raftkv refuses where etcd does not: a permission on a range that is neither one key
 * nor a prefix (docs/api.md).
 *
 * The cluster is waited for with a leader, not with `etcdctl endpoint status` as
 * etcd_compat/raftkv_cluster.ts does: etcdctl 3.4 sends a whole URL as the :authority of that call,
 * which node:http2 refuses (RST_STREAM PROTOCOL_ERROR), so that wait never ends.
 */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { after, before, describe, it } from "node:test";
import { authScript } from "./etcd_compat/auth_script.js";
import { etcdctl, etcdctlPath } from "./etcd_compat/etcdctl.js";
import { readGolden, transcriptDiff } from "./etcd_compat/golden.js";
import type { CompatCluster } from "./etcd_compat/normalize.js";
import { freePort, ProcessCluster } from "./harness.js";

describe("etcdctl's auth commands against raftkv", { timeout: 120_000 }, () => {
  let processes: ProcessCluster | undefined;
  let cluster: CompatCluster;
  before(async () => {
    assert.ok(existsSync(etcdctlPath), `${etcdctlPath} is missing: apt-get install -y etcd-client`);
    processes = await ProcessCluster.start(3);
    await processes.leader(30_000);
    cluster = {
      members: processes.members.map((m) => ({
        name: m.name,
        clientUrl: `http://${m.clientAddr}`,
        peerUrl: `http://${m.peerAddr}`,
      })),
      sparePeerUrl: `http://127.0.0.1:${await freePort()}`,
    };
  });
  after(() => processes?.stop());

  it("prints what etcd printed, line for line", async () => {
    const transcript = await authScript(cluster);
    const diff = transcriptDiff(await readGolden("auth"), transcript);
    assert.equal(diff, "", `raftkv's auth transcript differs from etcd's:\n${diff}`);
  });

  it("refuses a permission on a range that is neither one key nor a prefix, and grants nothing", async () => {
    const target = { endpoints: cluster.members.map((m) => m.clientUrl) };
    assert.equal((await etcdctl(target, ["role", "add", "ranged"])).code, 0);
    const refused = await etcdctl(target, ["role", "grant-permission", "ranged", "read", "a", "c"]);
    assert.equal(refused.code, 1);
    assert.match(
      refused.error,
      /code = InvalidArgument desc = raftkv grants permissions on one key or on a prefix only/,
    );
    const fromKey = await etcdctl(target, ["role", "grant-permission", "ranged", "read", "a", "--from-key"]);
    assert.equal(fromKey.code, 1, fromKey.stdout);
    const role = await etcdctl(target, ["role", "get", "ranged"]);
    assert.equal(role.stdout, "Role ranged\nKV Read:\nKV Write:\n");
    const all = await etcdctl(target, ["role", "grant-permission", "ranged", "read", "", "--prefix"]);
    assert.equal(all.code, 0, all.error);
    assert.equal((await etcdctl(target, ["role", "delete", "ranged"])).code, 0);
  });
});
