import { test } from "node:test";
import assert from "node:assert/strict";
import type { Node } from "../node/index.js";
import { encodeMemberContext } from "../node/index.js";
import { nodeIdOf } from "../node/names.js";
import type { NodeId } from "../raft/index.js";
import { combineObservers, createLogger, describeConfEntry, isLogLevel, logObserver, watchPeers } from "./log.js";

function capture(): { lines: Record<string, unknown>[]; write: (line: string) => void } {
  const lines: Record<string, unknown>[] = [];
  return {
    lines,
    write: (line: string) =>
      void lines.push(
        ...line
          .trim()
          .split("\n")
          .map((l) => JSON.parse(l) as Record<string, unknown>),
      ),
  };
}

const names: Record<number, string> = { [nodeIdOf("n1")]: "n1", [nodeIdOf("n2")]: "n2", [nodeIdOf("n3")]: "n3" };
const nameOf = (id: NodeId): string => names[id] ?? String(id);

test("every line is one JSON object with the level's name, time, node and term", () => {
  const out = capture();
  const current: { term?: number } = {};
  const log = createLogger({ node: "n2", level: "info", destination: out, term: () => current.term });
  log.info("before the node exists");
  current.term = 7;
  log.warn({ peer: "n3" }, "something");
  log.debug("not at info");
  assert.equal(out.lines.length, 2);
  assert.deepEqual(
    out.lines.map(({ level, node, term: t, msg }) => ({ level, node, term: t, msg })),
    [
      { level: "info", node: "n2", term: undefined, msg: "before the node exists" },
      { level: "warn", node: "n2", term: 7, msg: "something" },
    ],
  );
  assert.match(String(out.lines[1]!.time), /^\d{4}-\d\d-\d\dT/);
  assert.equal(out.lines[1]!.peer, "n3");
});

test("log levels: the flag's values", () => {
  for (const level of ["fatal", "error", "warn", "info", "debug", "trace", "silent"]) assert.ok(isLogLevel(level));
  assert.ok(!isLogLevel("verbose"));
  const out = capture();
  const log = createLogger({ node: "n1", level: "error", destination: out });
  log.info("hidden");
  log.error("shown");
  assert.deepEqual(
    out.lines.map((l) => l.msg),
    ["shown"],
  );
});

test("membership changes in words", () => {
  const n4 = nodeIdOf("n4");
  assert.deepEqual(describeConfEntry({ op: "bootstrap", voters: [nodeIdOf("n1"), nodeIdOf("n2")] }, nameOf), {
    op: "bootstrap",
    members: ["n1", "n2"],
    text: "cluster bootstrapped with voters n1, n2",
  });
  const add = describeConfEntry(
    {
      op: "simple",
      changes: [
        { type: "addLearner", id: n4, context: encodeMemberContext({ name: "n4", peerAddr: "127.0.0.1:7004" }) },
      ],
    },
    nameOf,
  );
  assert.deepEqual(add, { op: "addLearner", members: ["n4"], text: "added n4 as a learner at 127.0.0.1:7004" });
  assert.equal(
    describeConfEntry({ op: "enterJoint", changes: [{ type: "promote", id: n4, context: new Uint8Array(0) }] }, nameOf)
      .text,
    `promoted ${n4} to voter (joint consensus)`,
  );
  assert.equal(
    describeConfEntry(
      { op: "simple", changes: [{ type: "remove", id: nodeIdOf("n3"), context: new Uint8Array(0) }] },
      nameOf,
    ).text,
    "removed n3",
  );
  assert.equal(describeConfEntry({ op: "leaveJoint" }, nameOf).op, "leaveJoint");
  const replace = describeConfEntry(
    {
      op: "enterJoint",
      changes: [
        { type: "promote", id: n4, context: new Uint8Array(0) },
        { type: "remove", id: nodeIdOf("n3"), context: new Uint8Array(0) },
      ],
    },
    nameOf,
  );
  assert.deepEqual(replace, {
    op: "replace",
    members: [String(n4), "n3"],
    text: `promoted ${n4} to voter, removed n3 (joint consensus)`,
  });
});

test("one line per role change, leader change, snapshot, compaction, membership change and fatal error", () => {
  const out = capture();
  const log = createLogger({ node: "n1", level: "info", destination: out, term: () => 3 });
  const node = { nameOf } as unknown as Node;
  const observer = logObserver(log, () => node);
  observer.roleChanged?.("follower", 1);
  observer.roleChanged?.("follower", 2); // a term change alone is a debug line
  observer.roleChanged?.("leader", 3);
  observer.leaderChanged?.(nodeIdOf("n1"));
  observer.snapshot?.({ kind: "taken", index: 100, bytes: 10, seconds: 0.01 });
  observer.snapshot?.({ kind: "installed", index: 200, bytes: 10, seconds: 0.01 });
  observer.compacted?.(90);
  observer.configApplied?.(5, {
    op: "simple",
    changes: [{ type: "remove", id: nodeIdOf("n3"), context: new Uint8Array(0) }],
  });
  observer.fatal?.({ message: "disk on fire" } as never);
  assert.deepEqual(
    out.lines.map((l) => l.msg),
    [
      "became follower in term 1",
      "became leader in term 3",
      "leader is n1",
      "snapshot taken at index 100",
      "snapshot installed from the leader at index 200",
      "log compacted through index 90",
      "membership change: removed n3",
      "storage failure: disk on fire; stopping",
    ],
  );
  assert.ok(out.lines.every((l) => l.node === "n1" && l.term === 3));
  assert.equal(out.lines[1]!.previousRole, "follower");
  assert.equal(out.lines.at(-1)!.level, "fatal");
});

test("peer connects and disconnects are logged once each", () => {
  const out = capture();
  const log = createLogger({ node: "n1", level: "info", destination: out });
  let state = "connecting";
  const node = {
    nameOf,
    transport: {
      peers: () => [
        { id: nodeIdOf("n2"), address: { host: "127.0.0.1", port: 7002 }, state, queued: 0, snapshotStreaming: false },
      ],
    },
  } as unknown as Node;
  const watch = watchPeers(log, node, 60_000);
  try {
    assert.equal(out.lines.length, 0, "connecting is not connected");
    state = "connected";
    watch.check();
    watch.check();
    state = "backoff";
    watch.check();
    watch.check();
  } finally {
    watch.stop();
  }
  assert.deepEqual(
    out.lines.map((l) => l.msg),
    ["peer n2 connected", "peer n2 disconnected"],
  );
  assert.equal(out.lines[0]!.addr, "127.0.0.1:7002");
});

test("combined observers call every hook in order", () => {
  const calls: string[] = [];
  const combined = combineObservers(
    { leaderChanged: () => calls.push("a") },
    {},
    { leaderChanged: () => calls.push("b"), compacted: () => calls.push("c") },
  );
  combined.leaderChanged?.(nodeIdOf("n1"));
  combined.compacted?.(1);
  assert.deepEqual(calls, ["a", "b", "c"]);
  assert.equal("snapshot" in combined, false);
});
