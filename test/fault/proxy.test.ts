/**
 * The fault proxy between real members: a member listening (--listen-peer) on another address than
 * the one the cluster knows it by (--initial-cluster) works, and cutting directed links partitions
 * as asked — a leader whose outgoing links are cut is replaced, an isolated member cannot serve a
 * linearizable read, and healing brings back one agreed leader.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { nodeIdOf } from "raftkv";
import { RaftkvClient, RaftkvError } from "raftkv/client";
import { membersOf, ProcessCluster, statusOf, until } from "../harness.js";
import { PeerProxy } from "./proxy.js";

describe("the peer fault proxy", () => {
  let cluster: ProcessCluster;
  let proxy: PeerProxy;
  const clients: RaftkvClient[] = [];
  const clientOf = (addr: string, timeoutMs = 10_000): RaftkvClient => {
    const c = new RaftkvClient({ endpoints: [addr], timeoutMs });
    clients.push(c);
    return c;
  };

  before(async () => {
    cluster = await ProcessCluster.create(3, { privatePeerPorts: true });
    proxy = await PeerProxy.start(
      cluster.members.map((m) => ({
        name: m.name,
        id: nodeIdOf(m.name),
        listen: m.peerAddr,
        target: m.listenPeerAddr,
      })),
    );
    for (const m of cluster.members) cluster.startMember(m.name);
  });

  after(async () => {
    for (const c of clients) c.close();
    await proxy?.close();
    await cluster?.stop();
  });

  it("members listening apart from their advertised peer address elect a leader and list the advertised address", async () => {
    const leader = await cluster.leader(30_000);
    const listed = await membersOf(leader);
    assert.deepEqual(
      listed.map((m) => m.peerAddr),
      cluster.members.map((m) => m.peerAddr),
    );
    assert.ok(cluster.members.every((m) => m.peerAddr !== m.listenPeerAddr));
    await clientOf(leader.clientAddr).put("through-proxy", "1");
    assert.ok(proxy.forwarded > 0);
  });

  it("cutting only a leader's outgoing links makes the others elect a new leader, which the old one follows", async () => {
    const old = await cluster.leader(30_000);
    const oldTerm = (await statusOf(old)).term;
    for (const m of cluster.members) if (m !== old) proxy.setLink(old.name, m.name, false);
    const next = await until(
      "a new leader agreed by all three",
      async () => {
        const statuses = await Promise.all(cluster.members.map((m) => statusOf(m)));
        const leaders = new Set(statuses.map((s) => s.leader));
        const [leader] = [...leaders];
        return leaders.size === 1 &&
          leader !== null &&
          leader !== undefined &&
          leader !== old.name &&
          statuses.every((s) => s.term > oldTerm)
          ? leader
          : undefined;
      },
      30_000,
    );
    assert.notEqual(next, old.name);
    assert.ok(proxy.dropped > 0);
    proxy.heal();
  });

  it("an isolated member cannot serve a linearizable read; after healing it can", async () => {
    const leader = await cluster.leader(30_000);
    const isolated = cluster.members.find((m) => m !== leader)!;
    await clientOf(leader.clientAddr).put("isolated-read", "before");
    proxy.separate(
      [isolated.name],
      cluster.members.filter((m) => m !== isolated).map((m) => m.name),
    );
    await assert.rejects(
      clientOf(isolated.clientAddr, 2_000).get("isolated-read"),
      (error: unknown) => error instanceof RaftkvError,
    );
    proxy.heal();
    const healed = clientOf(isolated.clientAddr);
    await until(
      "a read on the healed member",
      async () => ((await healed.get("isolated-read"))?.text === "before" ? true : undefined),
      30_000,
    );
  });
});
