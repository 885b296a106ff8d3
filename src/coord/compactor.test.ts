import assert from "node:assert/strict";
import { test } from "node:test";
import { decodeCommand } from "../kv/index.js";
import { Compactor } from "./compactor.js";
import { watchSetup } from "./watch_test_support.test.helper.js";

/** A Raft node stand-in: its role is set by the test, and each proposal waits for the test to settle it. */
class FakeRaft {
  role = "leader";
  readonly proposals: { revision: number; settle: (ok: boolean) => void }[] = [];

  status(): { role: string } {
    return { role: this.role };
  }

  propose(command: Uint8Array): Promise<unknown> {
    const decoded = decodeCommand(command);
    assert.ok(decoded.ok && decoded.command.type === "compact");
    const revision = decoded.command.revision;
    return new Promise((resolve, reject) =>
      this.proposals.push({ revision, settle: (ok) => (ok ? resolve({}) : reject(new Error("not leader"))) }),
    );
  }
}

function setup(bounds: { historyRevisionsMax?: number; historyBytesMax?: number }) {
  const { store, clock, hub } = watchSetup();
  const raft = new FakeRaft();
  const compactor = new Compactor({ kv: store.kv, history: hub.history, raft, clock, ...bounds });
  return { store, clock, hub, raft, compactor };
}

/** Lets the proposal's promise callbacks run. */
const settled = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

test("the leader proposes a compaction keeping the newest half once the history holds too many revisions", async () => {
  const { store, clock, hub, raft } = setup({ historyRevisionsMax: 10 });
  for (let i = 0; i < 10; i++) store.put("k", String(i));
  clock.advance(1000);
  assert.equal(raft.proposals.length, 0, "within the bound");
  store.put("k", "10");
  clock.advance(1000);
  assert.deepEqual(
    raft.proposals.map((p) => p.revision),
    [7],
  );
  clock.advance(1000);
  assert.equal(raft.proposals.length, 1, "one proposal at a time");
  store.compact(7);
  raft.proposals[0]!.settle(true);
  await settled();
  assert.deepEqual([hub.history.firstRevision(), hub.history.revisionCount()], [7, 5]);
  clock.advance(1000);
  assert.equal(raft.proposals.length, 1, "back within the bound");
});

test("a failed proposal is tried again at the next check; a follower proposes nothing", async () => {
  const { store, clock, raft, compactor } = setup({ historyRevisionsMax: 4 });
  raft.role = "follower";
  for (let i = 0; i < 6; i++) store.put("k", String(i));
  clock.advance(5000);
  assert.equal(raft.proposals.length, 0);
  raft.role = "leader";
  clock.advance(1000);
  raft.proposals[0]!.settle(false);
  await settled();
  clock.advance(1000);
  assert.deepEqual(
    raft.proposals.map((p) => p.revision),
    [4, 4],
  );
  raft.proposals[1]!.settle(false);
  await settled();
  compactor.close();
  clock.advance(5000);
  assert.equal(raft.proposals.length, 2, "closed: no more checks");
});

test("the byte bound alone also triggers a compaction", () => {
  const { store, clock, raft } = setup({ historyBytesMax: 2000 });
  for (let i = 0; i < 10; i++) store.put("k", "v".repeat(300));
  clock.advance(1000);
  assert.equal(raft.proposals.length, 1);
  assert.ok(raft.proposals[0]!.revision > 5, "half the bytes or fewer are kept");
});
