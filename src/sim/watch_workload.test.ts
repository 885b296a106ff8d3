/**
 * The simulator's watch checks, each shown able to fail on streams planted to break a rule, and the
 * watch client's compaction path on a steady cluster. The sweep's planted bugs in the watch hub
 * (scripts/mutants/list.mjs) show the same from the outside.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import type { WatchMessage } from "../check/index.js";
import { encodeCommand, KvStore, type KvCommand } from "../kv/index.js";
import type { NodeId } from "../raft/index.js";
import { utf8 } from "../util/bytes.js";
import { logIndex } from "../util/ids.js";
import { Prng } from "../util/prng.js";
import { coordinationCluster, settle, type CoordinationCluster } from "./coordination_cluster.test.helper.js";
import { WatchClient, type LogicalStream } from "./watch_client.js";

const put = (key: string, value: string): KvCommand => ({ type: "put", key: utf8(key), value: utf8(value) });

async function propose(cc: CoordinationCluster, command: KvCommand): Promise<void> {
  await settle(
    cc.cluster,
    cc.cluster.request(cc.leader, (node) => node.raft.propose(encodeCommand(command))),
  );
}

function client(cc: CoordinationCluster, fromRevision: number | undefined, home: NodeId = cc.leader): WatchClient {
  const env = { cluster: cc.cluster, coord: cc.coord, counts: cc.counts, stopped: () => false, serves: () => true };
  const spec = { name: "w", range: { prefix: "" }, home, fromRevision, progressNotify: false, refuseRate: 0 };
  const watch = new WatchClient(env, spec, new Prng(5));
  cc.watches.clients.push(watch);
  return watch;
}

const events = (...changes: [key: string, value: string, revision: number][]): WatchMessage => ({
  kind: "events",
  events: changes.map(([key, value, revision]) => ({ type: "put", key, value, revision })),
});

function planted(
  name: string,
  range: LogicalStream["range"],
  segments: WatchMessage[][],
  starts: number[],
): LogicalStream {
  const messages = segments.flat();
  return {
    name,
    range,
    startRevision: starts[0]!,
    messages,
    times: messages.map((_, k) => k),
    segments: segments.map((list, k) => ({
      startRevision: starts[k]!,
      messages: list,
      member: 1 as NodeId,
      life: 0,
      watchId: k + 1,
      handle: undefined,
      canceled: undefined,
      full: false,
    })),
  };
}

test("two members that tell different stories of a revision are reported at once", async () => {
  const cc = await coordinationCluster(31);
  await propose(cc, put("k0", "a"));
  const other = new KvStore();
  cc.watches.recordStore(99 as NodeId, other);
  other.apply(encodeCommand(put("k0", "b")), logIndex(1));
  assert.equal(cc.cluster.checker.violations.length, 1);
  assert.match(
    cc.cluster.checker.violations[0]!.message,
    /^divergent history at revision 1: #99 saw put "k0"="b", n\d saw put "k0"="a"/,
  );
});

test("a stream that skipped an event it vouched for, and a reconnect that resumed past what was vouched, are reported", async () => {
  const cc = await coordinationCluster(32);
  for (const [key, value] of [
    ["k0", "a"],
    ["k1", "b"],
    ["k0", "c"],
  ] as const)
    await propose(cc, put(key, value));
  const watch = client(cc, 1);
  watch.streams.push(
    planted("gap", { prefix: "" }, [[events(["k0", "a", 1]), { kind: "progress", revision: 3 }]], [1]),
  );
  cc.watches.check("planted");
  assert.deepEqual(
    cc.cluster.checker.violations.map((v) => `${v.kind}: ${v.message}`),
    [
      'watch: planted: gap ({"prefix":""} from revision 1) is not reliable: revisions 2..3 were never delivered, though every revision has an event and revision 3 was vouched for by the progress notification in message 1 (message 1 at t=1.0ms)',
    ],
  );

  const again = await coordinationCluster(32);
  for (const [key, value] of [
    ["k0", "a"],
    ["k1", "b"],
    ["k0", "c"],
  ] as const)
    await propose(again, put(key, value));
  const late = client(again, 1);
  late.streams.push(planted("late", { key: "k0" }, [[events(["k0", "a", 1])], [events(["k0", "c", 3])]], [1, 3]));
  again.watches.check("planted");
  assert.deepEqual(
    again.cluster.checker.violations.map((v) => `${v.kind}: ${v.message}`),
    [
      'watch: planted: late ({"key":"k0"} from revision 1) is not resumable: segment 1 resumed at revision 3, but the segments before it vouched only up to revision 1: revision 2 was lost',
    ],
  );
});

test("after the heal, a watch that does not reach the leader's revision is reported; one that is served does", async () => {
  for (const served of [true, false]) {
    const cc = await coordinationCluster(33);
    await propose(cc, put("k0", "a"));
    const watch = client(cc, 1);
    if (served) watch.start();
    await cc.watches.checkCaughtUp(cc.leader, 2000);
    if (served) {
      assert.deepEqual(cc.cluster.checker.violations, []);
      cc.watches.check("served");
      assert.deepEqual(cc.cluster.checker.violations, []);
      continue;
    }
    assert.equal(cc.cluster.checker.violations.length, 1);
    assert.match(
      cc.cluster.checker.violations[0]!.message,
      /^after the heal, watches did not reach revision 1 \(leader n\d\) within 2000ms: w at 0 on no member$/,
    );
  }
});

test("a watch from below the compaction revision ends as compacted, and the next starts at the compaction revision", async () => {
  const cc = await coordinationCluster(34);
  for (let k = 0; k < 5; k++) await propose(cc, put(`k${k % 2}`, `v${k}`));
  await propose(cc, { type: "compact", revision: 4 });
  const watch = client(cc, 2);
  watch.start();
  await cc.watches.checkCaughtUp(cc.leader, 2000);
  assert.deepEqual(cc.cluster.checker.violations, []);
  const [first, second] = watch.streams;
  assert.deepEqual(first!.messages, [{ kind: "canceled", reason: "compacted", compactRevision: 4 }]);
  assert.equal(second!.startRevision, 4);
  const delivered = second!.messages.flatMap((m) => (m.kind === "events" ? m.events : []));
  assert.deepEqual(delivered, [
    { type: "put", key: "k1", value: "v3", revision: 4 },
    { type: "put", key: "k0", value: "v4", revision: 5 },
  ]);
  cc.watches.check("compacted");
  assert.deepEqual(cc.cluster.checker.violations, []);
});
