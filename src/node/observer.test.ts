import { test } from "node:test";
import assert from "node:assert/strict";
import { freePort } from "./free_port.test.helper.js";
import { makeTempDir, removeTree } from "../storage/fs_disk.js";
import { createNode } from "./create_node.js";
import type { NodeObserver } from "./node.js";
import type { StateMachine } from "./state_machine.js";

class Counter implements StateMachine<number> {
  n = 0;
  apply(): number {
    return ++this.n;
  }
  snapshot(): Uint8Array {
    return new TextEncoder().encode(String(this.n));
  }
  restore(data: Uint8Array): void {
    this.n = Number(new TextDecoder().decode(data));
  }
}

test("the observer hears of role changes, proposals, ReadIndex rounds, the bootstrap config, snapshots and compaction", async () => {
  const dir = await makeTempDir("raftkv-observer-");
  const events: string[] = [];
  const observer: NodeObserver = {
    roleChanged: (role, term) => events.push(`role ${role} ${term}`),
    leaderChanged: () => events.push("leader"),
    proposalSettled: (outcome) => events.push(`proposal ${outcome}`),
    readIndexRound: (mode) => events.push(`read ${mode}`),
    configApplied: (index, entry) => events.push(`config ${index} ${entry.op}`),
    snapshot: ({ kind, index, bytes, seconds }) => {
      assert.ok(bytes > 0 && seconds >= 0);
      events.push(`snapshot ${kind} ${index}`);
    },
    compacted: (index) => events.push(`compacted ${index}`),
  };
  const created = await createNode({
    id: "n1",
    dataDir: dir,
    peers: { n1: `127.0.0.1:${await freePort()}` },
    stateMachine: new Counter(),
    snapshotEntries: 10,
    snapshotKeepEntries: 2,
    observer,
  });
  assert.ok(created.ok, created.ok ? "" : created.error);
  const { raft } = created.node;
  try {
    const deadline = Date.now() + 10_000;
    while (raft.status().role !== "leader" && Date.now() < deadline)
      await new Promise((resolve) => setTimeout(resolve, 10));
    for (let k = 0; k < 12; k++) await raft.propose(new Uint8Array([k]));
    await raft.readBarrier("linearizable");
    assert.equal(raft.pendingProposals(), 0);
  } finally {
    await created.node.stop();
    await removeTree(dir);
  }
  assert.ok(events.includes("config 1 bootstrap"), events.join(", "));
  assert.ok(
    events.some((e) => /^role leader \d+$/.test(e)),
    events.join(", "),
  );
  assert.ok(events.includes("leader"));
  assert.equal(events.filter((e) => e === "proposal committed").length, 12);
  assert.ok(events.includes("read safe"));
  const snapshot = events.find((e) => e.startsWith("snapshot taken "));
  assert.ok(snapshot !== undefined, events.join(", "));
  const compacted = events.find((e) => e.startsWith("compacted "));
  assert.ok(compacted !== undefined, events.join(", "));
  assert.equal(
    Number(compacted.split(" ")[1]),
    Number(snapshot.split(" ")[2]) - 2,
    "compacted below the snapshot, keeping snapshotKeepEntries",
  );
});
