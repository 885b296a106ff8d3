/** `raftkv watch` as a user runs it, against real `raftkv serve` processes. */
import assert from "node:assert/strict";
import { after, before, it } from "node:test";
import type { RaftkvClient } from "raftkv/client";
import { CliSession } from "./cli_session.js";
import { clusterClient, ProcessCluster } from "./harness.js";

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

it(
  "watch prints each change as it comes, with --prev-kv and --json, and exits 0 on SIGINT or SIGTERM",
  { timeout: 120_000 },
  async () => {
    const { revision } = await client.put("cli-w/seed", "0");
    const watch = raftkv.start(["watch"], ["cli-w/", "--prefix", "--prev-kv", "--rev", String(revision + 1)]);
    assert.equal((await raftkv.run(["put"], ["cli-w/a", "hello world"])).code, 0);
    assert.equal((await raftkv.run(["put"], ["cli-w/a", "2"])).code, 0);
    assert.equal((await raftkv.run(["del"], ["cli-w/a"])).code, 0);
    await raftkv.output(watch, /DELETE/, "the delete to be printed");
    const exit = await watch.stop("SIGINT");
    assert.equal(exit.code, 0, exit.stderr);
    assert.equal(
      exit.stdout,
      `PUT cli-w/a "hello world" rev=${revision + 1}\n` +
        `PUT cli-w/a 2 rev=${revision + 2} prev="hello world"\n` +
        `DELETE cli-w/a rev=${revision + 3} prev=2\n`,
    );
    const json = raftkv.start(["watch"], ["cli-w/b", "--json", "--rev", String(revision + 1)]);
    const put = await client.put("cli-w/b", "x");
    await raftkv.output(json, /\n/, "a JSON line");
    const stopped = await json.stop("SIGTERM");
    assert.equal(stopped.code, 0, stopped.stderr);
    assert.deepEqual(JSON.parse(stopped.stdout), {
      type: "put",
      revision: put.revision,
      kv: { key: "cli-w/b", value: "x", createRevision: put.revision, modRevision: put.revision, version: 1 },
    });
  },
);

it("watch from a compacted revision fails with exit 1 and the compaction revision", { timeout: 60_000 }, async () => {
  const { revision } = await client.put("cli-w/c", "1");
  await client.compact(revision);
  const exit = await raftkv.run(["watch"], ["cli-w/", "--prefix", "--rev", "1"]);
  assert.equal(exit.code, 1);
  assert.equal(
    exit.stderr,
    `error: the watch needs revision 1, but the cluster compacted its history up to ${revision} (compacted)\n`,
  );
});
