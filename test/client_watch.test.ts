/**
 * Watches through raftkv/client against real `raftkv serve` processes: events in order and once
 * each, with the values before them; history replayed from a revision; compaction as a typed error;
 * and a watch that outlives the member serving it while writes go on.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { RaftkvClient, WatchCompactedError } from "raftkv/client";
import { clusterClient, ProcessCluster, until, withDeadline } from "./harness.js";
import { described, eventsThrough } from "./watch_events.js";

let cluster: ProcessCluster;
let client: RaftkvClient;

before(async () => {
  cluster = await ProcessCluster.start(3);
  await cluster.leader(30_000);
  client = clusterClient(cluster, { timeoutMs: 20_000 });
});
after(async () => {
  client?.close();
  await cluster?.stop();
});

describe("watch", { timeout: 120_000 }, () => {
  it("sees puts, a txn and deletes in order, a txn's changes at one revision, with the values before", async () => {
    const watch = client.watch({ prefix: "w/" }, { prevKv: true });
    const start = await watch.ready;
    await client.put("w/a", "1");
    await client.put("w/b", "2");
    await client.put("elsewhere", "not watched");
    const txn = await client.txn({
      compare: [],
      success: [
        { type: "put", key: "w/a", value: "3" },
        { type: "delete", key: "w/b" },
      ],
    });
    const last = (await client.delete("w/a")).revision;
    const events = await eventsThrough(watch, last);
    watch.close();
    assert.deepEqual(described(events), [
      "put w/a=1 prev=-",
      "put w/b=2 prev=-",
      "put w/a=3 prev=1",
      "delete w/b prev=2",
      "delete w/a prev=3",
    ]);
    const revisions = events.map((e) => e.kv.modRevision);
    assert.deepEqual(revisions, [start + 1, start + 2, txn.revision, txn.revision, last]);
    const replay = client.watch({ key: "w/a" }, { fromRevision: start + 1 });
    assert.deepEqual(
      (await eventsThrough(replay, last)).map((e) => e.kv.modRevision),
      [start + 1, txn.revision, last],
      "fromRevision replays the history",
    );
    replay.close();
  });

  it("compaction surfaces as WatchCompactedError; a watch from the compaction revision works", async () => {
    await client.put("c/1", "x");
    const { revision } = await client.put("c/2", "y");
    assert.deepEqual((await client.compact(revision)).compactRevision, revision);
    const early = client.watch({ prefix: "c/" }, { fromRevision: 1 });
    await assert.rejects(withDeadline(early.next(), 30_000, "the compacted watch to fail"), (e: unknown) => {
      assert.ok(e instanceof WatchCompactedError, String(e));
      assert.deepEqual([e.reason, e.code, e.compactRevision], ["compacted", "compacted", revision]);
      return true;
    });
    const late = client.watch({ prefix: "c/" }, { fromRevision: revision });
    const events = await eventsThrough(late, revision);
    late.close();
    assert.deepEqual(described(events), ["put c/2=y prev=-"]);
  });
});

describe("a watch on the member that dies", { timeout: 180_000 }, () => {
  it("resumes on another member: no revision lost or repeated while writes go on", async () => {
    const victim = await cluster.leader(30_000);
    const rest = cluster.members.filter((m) => m !== victim).map((m) => m.clientAddr);
    // A fresh client starts on its first endpoint: the victim serves the watch.
    const watcher = new RaftkvClient({ endpoints: [victim.clientAddr, ...rest], timeoutMs: 20_000 });
    const watch = watcher.watch({ prefix: "kill/" });
    const start = await watch.ready;
    const seen: number[] = [];
    const reading = (async () => {
      for await (const message of watch)
        if (message.type === "events") seen.push(...message.events.map((e) => e.kv.modRevision));
    })();
    const acknowledged: number[] = [];
    let writing = true;
    const writes = (async () => {
      for (let i = 0; writing; i++) {
        try {
          acknowledged.push((await client.put(`kill/${i}`, String(i))).revision);
        } catch {
          // Unknown or refused during the failover; the watch must show whatever was applied.
        }
      }
    })();
    await until("20 writes before the kill", () => (acknowledged.length >= 20 ? true : undefined), 30_000);
    await cluster.stopMember(victim.name, "SIGKILL");
    const before = acknowledged.length;
    await until("20 writes after the kill", () => (acknowledged.length >= before + 20 ? true : undefined), 60_000);
    writing = false;
    await writes;
    const last = Math.max(...acknowledged);
    await until("the watch to reach the last write", () => ((seen.at(-1) ?? 0) >= last ? true : undefined), 30_000);
    watch.close();
    await reading;
    watcher.close();
    const expected = Array.from({ length: seen.length }, (_, i) => start + 1 + i);
    assert.deepEqual(seen, expected, "every revision once, in order (every write of this test is under kill/)");
    for (const revision of acknowledged) assert.ok(seen.includes(revision), `acknowledged revision ${revision}`);
    cluster.startMember(victim.name);
    await cluster.leader(30_000);
  });
});
