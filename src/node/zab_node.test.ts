import assert from "node:assert/strict";
import { join } from "node:path";
import { test } from "node:test";
import { zxidOfTag, type ZabTuning, type Zxid } from "../engine/zab.js";
import { makeTempDir, removeTree } from "../storage/fs_disk.js";
import { createNode, type Node } from "./create_node.js";
import { NodeRequestError } from "./errors.js";
import { freePort } from "./free_port.test.helper.js";
import type { StateMachine } from "./state_machine.js";
import { until } from "./until.test.helper.js";

/*
 * ZAB behind the node (docs/engines.md): what node.test.ts checks of Raft and Multi-Paxos, in
 * ZAB's terms — no snapshots (a member catches up by history sync), a follower's linearizable read
 * is a `sync` through the leader, and an epoch whose zxid counter runs out hands over to a new one.
 */

/** Appends every command to a list (ZAB takes no snapshot of it). */
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

const encode = (text: string): Uint8Array => new TextEncoder().encode(text);
const commands = (n: number): string[] => Array.from({ length: n }, (_, k) => `c${k + 1}`);

interface Cluster {
  readonly dir: string;
  readonly peers: Record<string, string>;
  readonly journals: Map<string, Journal>;
  /** Zxids each member applied, in order, this life and the ones before. */
  readonly zxids: Map<string, Zxid[]>;
  nodes: Node[];
}

async function start(c: Cluster, names: readonly string[], zabTuning?: ZabTuning): Promise<Node[]> {
  const started: Node[] = [];
  for (const name of names) {
    const journal = new Journal();
    c.journals.set(name, journal);
    const zxids: Zxid[] = [];
    c.zxids.set(name, zxids);
    const created = await createNode({
      id: name,
      dataDir: join(c.dir, name),
      peers: c.peers,
      stateMachine: journal,
      snapshotEntries: 10,
      // Generous, so that a loaded test machine does not depose leaders mid-test.
      electionTimeoutMs: 1000,
      heartbeatMs: 100,
      engine: "zab",
      zabTuning,
      observer: { entriesApplied: (entries) => zxids.push(...entries.map((e) => zxidOfTag(e.tag as number))) },
    });
    assert.ok(created.ok, created.ok ? "" : created.error);
    started.push(created.node);
  }
  c.nodes = [...c.nodes.filter((n) => !names.includes(n.name)), ...started];
  return started;
}

async function withCluster(body: (c: Cluster) => Promise<void>): Promise<void> {
  const c: Cluster = {
    dir: await makeTempDir("raftkv-zab-node-"),
    peers: {},
    journals: new Map(),
    zxids: new Map(),
    nodes: [],
  };
  for (const name of ["n1", "n2", "n3"]) c.peers[name] = `127.0.0.1:${await freePort()}`;
  try {
    await body(c);
  } finally {
    await Promise.all(c.nodes.map((n) => n.stop()));
    await removeTree(c.dir);
  }
}

const leaderOf = (c: Cluster): Promise<Node> =>
  until("a leader in broadcast", () => c.nodes.find((n) => n.raft.status().role === "leader"));

/**
 * Proposes at whoever leads (or at a member `via` picks given the leader), again while it is
 * refused (no leader yet, or an epoch running out).
 */
async function proposeUntilTaken(
  c: Cluster,
  command: Uint8Array,
  via: (leader: Node) => Node = (leader) => leader,
): Promise<unknown> {
  for (;;) {
    const leader = await leaderOf(c);
    try {
      return await via(leader).raft.propose(command);
    } catch (error) {
      // Refused before it was appended (no leader, or an epoch running out): safe to propose again.
      const refused =
        error instanceof NodeRequestError && ["noLeader", "notLeader", "tooBusy"].includes(error.detail.type);
      if (!refused) throw error;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }
}

test("ZAB nodes replicate, answer a follower's linearizable read by sync, take a proposal at a follower, and recover from their history", async () => {
  await withCluster(async (c) => {
    await start(c, ["n1", "n2", "n3"]);
    for (let k = 1; k <= 30; k++) assert.equal(await proposeUntilTaken(c, encode(`c${k}`)), k);
    const leader = await leaderOf(c);
    const follower = c.nodes.find((n) => n !== leader)!;
    await follower.raft.readBarrier("linearizable");
    assert.deepEqual(
      c.journals.get(follower.name)!.items,
      commands(30),
      "a sync read on a follower sees every acknowledged write",
    );
    await follower.raft.readBarrier("lease");
    assert.equal(
      await proposeUntilTaken(c, encode("c31"), (leader) => c.nodes.find((n) => n !== leader)!),
      31,
      "a follower's proposal goes to the leader, and its result comes from the follower's own apply",
    );
    await until("every node applied 31", () =>
      c.nodes.every((n) => c.journals.get(n.name)!.items.length === 31) ? true : undefined,
    );
    assert.ok(
      c.nodes.every((n) => n.raft.status().snapshotIndex === 0),
      "no snapshots, though 10 entries would take one",
    );

    await Promise.all(c.nodes.map((n) => n.stop()));
    await start(c, ["n1", "n2", "n3"]);
    assert.equal(await proposeUntilTaken(c, encode("c32")), 32, "the restarted state machines replay their history");
    await until("every node applied 32", () =>
      c.nodes.every((n) => c.journals.get(n.name)!.items.length === 32) ? true : undefined,
    );
    for (const n of c.nodes) assert.deepEqual(c.journals.get(n.name)!.items, commands(32));
  });
});

test("a ZAB follower that was down while 60 commands committed catches up by history sync", async () => {
  await withCluster(async (c) => {
    await start(c, ["n1", "n2", "n3"]);
    const leader = await leaderOf(c);
    const behind = c.nodes.find((n) => n !== leader)!;
    await behind.stop();
    c.nodes = c.nodes.filter((n) => n !== behind);
    for (let k = 1; k <= 60; k++) assert.equal(await proposeUntilTaken(c, encode(`c${k}`)), k);
    await start(c, [behind.name]);
    await until("the follower applied everything", () =>
      c.journals.get(behind.name)!.items.length === 60 ? true : undefined,
    );
    assert.deepEqual(c.journals.get(behind.name)!.items, commands(60));
  });
});

test("a ZAB epoch whose 3-bit zxid counter runs out hands over to a new epoch; nothing is lost or reordered", async () => {
  await withCluster(async (c) => {
    await start(c, ["n1", "n2", "n3"], { counterBits: 3 });
    for (let k = 1; k <= 20; k++) assert.equal(await proposeUntilTaken(c, encode(`c${k}`)), k);
    await until("every node applied 20", () =>
      c.nodes.every((n) => c.journals.get(n.name)!.items.length === 20) ? true : undefined,
    );
    for (const n of c.nodes) {
      assert.deepEqual(c.journals.get(n.name)!.items, commands(20));
      const zxids = c.zxids.get(n.name)!;
      assert.ok(
        zxids.every((z) => z.counter >= 1 && z.counter <= 7),
        `an epoch holds at most 2^3 − 1 transactions: ${zxids.map((z) => `${z.epoch}.${z.counter}`).join(" ")}`,
      );
      const epochs = new Set(zxids.map((z) => z.epoch));
      assert.ok(epochs.size >= 3, `20 transactions in at least three epochs, got ${[...epochs].join(", ")}`);
      assert.ok(
        zxids.every((z, k) => k === 0 || z.epoch > zxids[k - 1]!.epoch || z.counter === zxids[k - 1]!.counter + 1),
        "delivered in zxid order with no gap",
      );
    }
  });
});
