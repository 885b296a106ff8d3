/**
 * `raftkv lease`, `put --lease`, `lock` and `elect` against real `raftkv serve` processes, each
 * command a child process as a user would run it.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { RaftkvClient } from "raftkv/client";
import { CliSession } from "./cli_session.js";
import { clusterClient, ProcessCluster, until, type Exit } from "./harness.js";

let cluster: ProcessCluster;
let client: RaftkvClient;
let raftkv: CliSession;

before(async () => {
  cluster = await ProcessCluster.start(3);
  await cluster.leader(30_000);
  client = clusterClient(cluster, { timeoutMs: 20_000 });
  raftkv = new CliSession(cluster);
});
after(async () => {
  await raftkv?.stopAll();
  client?.close();
  await cluster?.stop();
});

describe("raftkv lease and put --lease", { timeout: 120_000 }, () => {
  it("lease grant, put --lease, lease ttl --keys, keepalive until interrupted, revoke", async () => {
    const granted = await raftkv.run(["lease", "grant"], ["60"]);
    assert.equal(granted.code, 0, granted.stderr);
    const id = /^lease (\d+) granted \(TTL 60s\)\n$/.exec(granted.stdout)?.[1] ?? "";
    assert.notEqual(id, "", granted.stdout);
    assert.equal((await raftkv.run(["put"], ["cli-leased", "v", "--lease", id])).code, 0);
    const ttl = await raftkv.run(["lease", "ttl"], [id, "--keys"]);
    assert.match(ttl.stdout, new RegExp(`^lease ${id}: TTL 60s, \\d+s remaining, 1 key\\ncli-leased\\n$`));
    const json = JSON.parse((await raftkv.run(["lease", "ttl"], [id, "--json"])).stdout) as {
      id: number;
      keys?: unknown;
    };
    assert.deepEqual([json.id, json.keys], [Number(id), undefined]);
    assert.match((await raftkv.run(["lease", "list"])).stdout, new RegExp(`^ID +TTL\\n(.*\\n)*${id} +60s\\n`));
    const keepalive = raftkv.start(["lease", "keepalive"], [id]);
    await raftkv.output(keepalive, new RegExp(`^lease ${id} kept alive \\(TTL 60s\\)\\n`), "a renewal");
    assert.equal((await keepalive.stop("SIGINT")).code, 0);
    const revoked = await raftkv.run(["lease", "revoke"], [id]);
    assert.match(revoked.stdout, new RegExp(`^lease ${id} revoked \\(revision \\d+, 1 key deleted\\)\\n$`));
    assert.equal((await raftkv.run(["get"], ["cli-leased"])).code, 1);
    const gone = await raftkv.run(["lease", "ttl"], [id]);
    assert.deepEqual([gone.code, /\(lease_not_found\)\n$/.test(gone.stderr)], [1, true]);
  });
});

describe("raftkv lock and elect", { timeout: 120_000 }, () => {
  it("lock runs the command holding the lock, with the token in its environment, and exits with its status", async () => {
    const lock = (script: string): Promise<Exit> => raftkv.run(["lock"], ["cli-lock", "--", "sh", "-c", script]);
    const held = await lock('echo "$RAFTKV_LOCK_TOKEN $RAFTKV_LOCK_KEY"');
    assert.equal(held.code, 0, held.stderr);
    const [token, key] = held.stdout.trim().split(" ");
    assert.match(token ?? "", /^\d+$/);
    assert.match(key ?? "", /^cli-lock\/\d+$/);
    const failed = await lock("echo $RAFTKV_LOCK_TOKEN; exit 7");
    assert.equal(failed.code, 7);
    assert.ok(Number(failed.stdout.trim()) > Number(token), "a later holder's token is higher");
    assert.equal((await client.range({ prefix: "cli-lock/" })).kvs.length, 0, "released after each command");
  });

  it("a lock lost while the command runs stops it (exit 1); SIGINT while waiting gives up (exit 1)", async () => {
    const holder = raftkv.start(["lock"], ["cli-lost", "--ttl", "3", "--", "sh", "-c", "echo holding; exec sleep 60"]);
    await raftkv.output(holder, /^holding\n$/, "the command to run");
    const [key] = (await client.range({ prefix: "cli-lost/" })).kvs;
    const waiter = raftkv.start(["lock"], ["cli-lost", "--", "echo", "never"]);
    await until("the waiter to queue", async () =>
      (await client.range({ prefix: "cli-lost/" })).kvs.length === 2 ? true : undefined,
    );
    const interrupted = await waiter.stop("SIGINT");
    assert.deepEqual(
      [interrupted.code, interrupted.stdout, interrupted.stderr],
      [1, "", "error: interrupted while waiting for the lock cli-lost\n"],
    );
    await client.leaseRevoke(key?.lease ?? 0);
    const lost = await holder.exit(30_000);
    assert.equal(lost.code, 1);
    assert.match(lost.stderr, /^error: lost the lock cli-lost\/\d+ while sh ran: .*\(lease_not_found\)\n$/);
    assert.equal((await client.range({ prefix: "cli-lost/" })).kvs.length, 0, "the waiter's key went with it");
  });

  it("elect prints when elected, holds leadership, and resigns on SIGTERM", async () => {
    const elect = raftkv.start(["elect"], ["cli-election", "n1", "--ttl", "10"]);
    await raftkv.output(elect, /^elected cli-election token=\d+\n$/, "the election");
    const [leader] = (await client.range({ prefix: "cli-election/" })).kvs;
    assert.equal(leader?.text, "n1");
    assert.equal(`token=${leader.createRevision}`, /token=\d+/.exec(elect.stdout)?.[0]);
    const exit = await elect.stop("SIGTERM");
    assert.equal(exit.code, 0, exit.stderr);
    assert.equal((await client.range({ prefix: "cli-election/" })).kvs.length, 0, "resigned");
  });
});
