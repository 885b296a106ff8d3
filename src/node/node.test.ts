import { test } from "node:test";
import assert from "node:assert/strict";
import { freePort } from "./free_port.test.helper.js";
import { join } from "node:path";
import { makeTempDir, removeTree } from "../storage/fs_disk.js";
import type { EngineName } from "../engine/engine.js";
import { createNode, type Node } from "./create_node.js";
import type { SnapshotInProgress, StateMachine } from "./state_machine.js";

/** Appends every command to a list; its snapshot is the list. */
class Journal implements StateMachine<number> {
  items: string[] = [];
  apply(command: Uint8Array): number {
    this.items.push(new TextDecoder().decode(command));
    return this.items.length;
  }
  snapshot(): Uint8Array {
    return new TextEncoder().encode(JSON.stringify(this.items));
  }
  restore(snapshot: Uint8Array): void {
    this.items = JSON.parse(new TextDecoder().decode(snapshot)) as string[];
  }
}

/**
 * A Journal whose snapshots come 16 bytes per step, as a large state machine's would, and
 * that completes one only after a command was applied while it was part-way done: a snapshot stored
 * with the wrong index or content then shows up as a wrong journal after a restart.
 */
class PiecewiseJournal extends Journal {
  /** Commands applied while a snapshot was part-way encoded. */
  appliedDuringSnapshots = 0;
  #encoding = false;
  override apply(command: Uint8Array): number {
    if (this.#encoding) this.appliedDuringSnapshots++;
    return super.apply(command);
  }
  beginSnapshot(): SnapshotInProgress {
    const data = new TextEncoder().encode(JSON.stringify(this.items));
    let at = 0;
    this.#encoding = true;
    return {
      step: () => {
        const end = Math.min(data.length, at + 16);
        const done = end === data.length;
        if (done && this.appliedDuringSnapshots === 0) return { bytes: new Uint8Array(0), done: false };
        const bytes = data.subarray(at, end);
        at = end;
        if (done) this.#encoding = false;
        return { bytes, done };
      },
    };
  }
}

async function until<T>(
  what: string,
  probe: () => T | undefined | Promise<T | undefined>,
  timeoutMs = 10_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch {
      // Not yet: keep trying until the deadline.
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Where a test member says it serves clients (nothing listens there: only the announcement matters). */
const clientAddressOf = (name: string): string => `${name}.clients.example:8000`;

/** Resolves once every node knows where every node serves clients, itself included. */
function untilAddressesKnown(nodes: readonly Node[]): Promise<true> {
  return until("every node to know every member's client address", () =>
    nodes.every((n) => nodes.every((m) => n.clientAddressOf(m.raft.id) === clientAddressOf(m.name))) ? true : undefined,
  );
}

async function startCluster(
  dir: string,
  names: string[],
  peers: Record<string, string>,
  journals: Map<string, Journal>,
  kind: typeof Journal,
  engine: EngineName,
): Promise<Node[]> {
  const nodes: Node[] = [];
  for (const name of names) {
    const journal = new kind();
    journals.set(name, journal);
    const created = await createNode({
      id: name,
      dataDir: join(dir, name),
      peers,
      clientAddress: clientAddressOf(name),
      stateMachine: journal,
      snapshotEntries: 20,
      snapshotKeepEntries: 5,
      engine,
    });
    assert.ok(created.ok, created.ok ? "" : created.error);
    nodes.push(created.node);
  }
  return nodes;
}

const encode = (text: string): Uint8Array => new TextEncoder().encode(text);

/** The engines every test here runs on: what the node does is the same whichever core it drives. */
const engines: readonly EngineName[] = ["raft", "multi-paxos"];

for (const [kind, engine] of engines.flatMap((e) => [Journal, PiecewiseJournal].map((k) => [k, e] as const))) {
  test(`three nodes elect a leader, replicate, snapshot, and recover their state after a restart (${kind.name}, ${engine})`, async () => {
    const dir = await makeTempDir("raftkv-node-");
    const names = ["n1", "n2", "n3"];
    const peers: Record<string, string> = {};
    for (const name of names) peers[name] = `127.0.0.1:${await freePort()}`;
    const journals = new Map<string, Journal>();
    let nodes = await startCluster(dir, names, peers, journals, kind, engine);
    try {
      const leader = await until("a leader", () => nodes.find((n) => n.raft.status().role === "leader"));
      await untilAddressesKnown(nodes);
      for (let k = 1; k <= 50; k++) assert.equal(await leader.raft.propose(encode(`c${k}`)), k);
      const follower = nodes.find((n) => n !== leader)!;
      await follower.raft.readBarrier("linearizable");
      assert.equal(
        journals.get(follower.name)!.items.length,
        50,
        "a linearizable read on a follower sees every acknowledged write",
      );
      await until("every node applied 50 commands", () =>
        names.every((n) => journals.get(n)!.items.length === 50) ? true : undefined,
      );
      await until("a snapshot taken", () => (leader.raft.status().snapshotIndex > 0 ? true : undefined));
      assert.equal(
        await follower.raft.propose(encode("c51")),
        51,
        "a follower's proposal goes to the leader, and its result comes from the follower's own apply",
      );

      await Promise.all(nodes.map((n) => n.stop()));
      nodes = await startCluster(dir, names, peers, journals, kind, engine);
      const again = await until("a leader after restart", () => nodes.find((n) => n.raft.status().role === "leader"));
      await untilAddressesKnown(nodes);
      assert.equal(
        await again.raft.propose(encode("c52")),
        52,
        "the restarted state machine continues from its snapshot and log without re-applying",
      );
      await until("every node applied 52 commands", () =>
        names.every((n) => journals.get(n)!.items.length === 52) ? true : undefined,
      );
      for (const name of names)
        assert.deepEqual(
          journals.get(name)!.items,
          Array.from({ length: 52 }, (_, k) => `c${k + 1}`),
        );
    } finally {
      await Promise.all(nodes.map((n) => n.stop()));
      await removeTree(dir);
    }
  });
}

for (const engine of engines) {
  test(`a follower that missed compacted entries catches up from the leader's snapshot (${engine})`, async () => {
    const dir = await makeTempDir("raftkv-node-");
    const names = ["n1", "n2", "n3"];
    const peers: Record<string, string> = {};
    for (const name of names) peers[name] = `127.0.0.1:${await freePort()}`;
    const journals = new Map<string, Journal>();
    let nodes = await startCluster(dir, names, peers, journals, Journal, engine);
    try {
      const leader = await until("a leader", () => nodes.find((n) => n.raft.status().role === "leader"));
      const behind = nodes.find((n) => n !== leader)!;
      await behind.stop();
      for (let k = 1; k <= 60; k++) assert.equal(await leader.raft.propose(encode(`c${k}`)), k);
      await until("the leader compacted its log", () => (leader.raft.status().snapshotIndex > 20 ? true : undefined));
      const started = await startCluster(dir, [behind.name], peers, journals, Journal, engine);
      nodes = [...nodes.filter((n) => n !== behind), ...started];
      const restarted = started[0]!;
      await until("the follower applied everything", () =>
        journals.get(behind.name)!.items.length === 60 ? true : undefined,
      );
      assert.ok(restarted.raft.status().snapshotIndex > 0, "it installed a snapshot");
      assert.deepEqual(
        journals.get(behind.name)!.items,
        Array.from({ length: 60 }, (_, k) => `c${k + 1}`),
      );
    } finally {
      await Promise.all(nodes.map((n) => n.stop()));
      await removeTree(dir);
    }
  });
}

test("a client address a hello cannot carry is refused before anything starts", async () => {
  for (const clientAddress of ["no-port", "a host:8001", `${"h".repeat(300)}:8001`]) {
    const created = await createNode({
      id: "n1",
      dataDir: join("/nonexistent", "never-created"),
      peers: { n1: "127.0.0.1:1" },
      clientAddress,
      stateMachine: new Journal(),
    });
    assert.deepEqual(created.ok ? "" : created.error, `invalid client address ${JSON.stringify(clientAddress)}`);
  }
});

test("a data dir keeps its identity: starting it as another member is refused", async () => {
  const dir = await makeTempDir("raftkv-node-");
  const peers = { n1: `127.0.0.1:${await freePort()}` };
  try {
    const first = await createNode({ id: "n1", dataDir: dir, peers, stateMachine: new Journal() });
    assert.ok(first.ok);
    await first.node.stop();
    const other = await createNode({ id: "n2", dataDir: dir, peers: { n2: peers.n1 }, stateMachine: new Journal() });
    assert.deepEqual(other.ok ? "" : other.error, `${dir} belongs to member n1, not n2`);
  } finally {
    await removeTree(dir);
  }
});

test("a data dir written by one engine refuses to start under another, and a fixed ensemble refuses --join", async () => {
  const dir = await makeTempDir("raftkv-node-");
  const peers = { n1: `127.0.0.1:${await freePort()}` };
  try {
    const first = await createNode({
      id: "n1",
      dataDir: dir,
      peers,
      stateMachine: new Journal(),
      engine: "multi-paxos",
    });
    assert.ok(first.ok, first.ok ? "" : first.error);
    await until("the single member leads", () => (first.node.raft.status().role === "leader" ? true : undefined));
    assert.equal(await first.node.raft.propose(encode("c1")), 1);
    await first.node.stop();
    const asRaft = await createNode({ id: "n1", dataDir: dir, peers, stateMachine: new Journal() });
    assert.deepEqual(
      asRaft.ok ? "" : asRaft.error,
      `${dir} was written by the multi-paxos engine, not raft: start it with --engine multi-paxos`,
    );
    const joining = await createNode({
      id: "n2",
      dataDir: join(dir, "n2"),
      peers: { ...peers, n2: `127.0.0.1:${await freePort()}` },
      join: true,
      stateMachine: new Journal(),
      engine: "multi-paxos",
    });
    assert.deepEqual(
      joining.ok ? "" : joining.error,
      "--join needs the raft engine: multi-paxos runs a fixed membership",
    );
  } finally {
    await removeTree(dir);
  }
});
