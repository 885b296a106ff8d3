/**
 * Issue 17's proof with clients nobody here wrote: Debian's etcdctl and the `etcd3` npm client run
 * their scripts (test/etcd_compat/) against a 3-member raftkv over its etcd v3 gRPC API, and every
 * line they print must be what a real etcd 3.4.23 printed (the golden files; `npm run
 * compare:etcd` makes them again from a live etcd).
 */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { after, before, describe, it } from "node:test";
import { etcd3Script } from "./etcd_compat/etcd3_script.js";
import { etcdctlPath } from "./etcd_compat/etcdctl.js";
import { EtcdctlScript } from "./etcd_compat/etcdctl_script.js";
import { readGolden, transcriptDiff } from "./etcd_compat/golden.js";
import { startRaftkvForCompat, type RaftkvCompatCluster } from "./etcd_compat/raftkv_cluster.js";

describe("etcd's own clients against raftkv", { timeout: 240_000 }, () => {
  let cluster: RaftkvCompatCluster;
  before(async () => {
    // CI installs etcd-client (.ci/run); without etcdctl this test cannot prove anything.
    assert.ok(existsSync(etcdctlPath), `${etcdctlPath} is missing: apt-get install -y etcd-client`);
    cluster = await startRaftkvForCompat();
  });
  after(() => cluster?.stop());

  it("etcdctl prints what it prints against etcd", async () => {
    const transcript = await new EtcdctlScript(cluster).run();
    const diff = transcriptDiff(await readGolden("etcdctl"), transcript);
    assert.equal(diff, "", `raftkv's etcdctl transcript differs from etcd's:\n${diff}`);
  });

  it("the etcd3 npm client returns what it returns against etcd (KV, watch, leases, locks, elections)", async () => {
    const transcript = await etcd3Script(cluster);
    const diff = transcriptDiff(await readGolden("etcd3"), transcript);
    assert.equal(diff, "", `raftkv's etcd3 transcript differs from etcd's:\n${diff}`);
  });
});
