import assert from "node:assert/strict";
import { test } from "node:test";
import { nodeId, type NodeId } from "../raft/index.js";
import type { PeerAddress } from "../transport/index.js";
import type { Clock, Timer } from "./clock.js";
import { parseAddress } from "./create_node.js";
import { PeerFollower, removedPeerGraceMs } from "./peer_follower.js";
import type { PeerTransport } from "./peer_transport.js";

/** A clock that moves only when told to. */
class ManualClock implements Clock {
  #now = 0;
  #timers: { at: number; run: () => void; cancelled: boolean }[] = [];
  now(): number {
    return this.#now;
  }
  after(ms: number, run: () => void): Timer {
    const timer = { at: this.#now + ms, run, cancelled: false };
    this.#timers.push(timer);
    return { cancel: () => (timer.cancelled = true) };
  }
  every(): Timer {
    throw new Error("not used");
  }
  soon(run: () => void): void {
    this.after(0, run);
  }
  advance(ms: number): void {
    this.#now += ms;
    const due = this.#timers.filter((t) => t.at <= this.#now && !t.cancelled);
    this.#timers = this.#timers.filter((t) => t.at > this.#now && !t.cancelled);
    for (const t of due) t.run();
  }
}

/** Records what the follower asks of the transport. */
function recordingTransport(): { transport: PeerTransport; peers: Map<NodeId, PeerAddress> } {
  const peers = new Map<NodeId, PeerAddress>();
  const transport = {
    send: () => undefined,
    setPeer: (id: NodeId, address: PeerAddress) => void peers.set(id, address),
    removePeer: (id: NodeId) => void peers.delete(id),
    stats: () => {
      throw new Error("not used");
    },
    peers: () => [],
    close: () => Promise.resolve(),
  } as PeerTransport;
  return { transport, peers };
}

const n2 = nodeId(2);
const address = { name: "n2", peerAddr: "127.0.0.1:7002" };

test("a removed member is dropped from the transport after a grace period", () => {
  const clock = new ManualClock();
  const { transport, peers } = recordingTransport();
  const follower = new PeerFollower({ self: nodeId(1), clock, parse: parseAddress });
  follower.transport = transport;
  follower.changed({ added: [n2, address] });
  assert.deepEqual(peers.get(n2), { host: "127.0.0.1", port: 7002 });
  follower.changed({ removed: n2 });
  clock.advance(removedPeerGraceMs - 1);
  assert.ok(peers.has(n2), "kept while its last append may still be queued");
  clock.advance(1);
  assert.equal(peers.has(n2), false);
});

test("a member removed and added back within the grace period keeps its connection (found by the sweep)", () => {
  const clock = new ManualClock();
  const { transport, peers } = recordingTransport();
  const follower = new PeerFollower({ self: nodeId(1), clock, parse: parseAddress });
  follower.transport = transport;
  follower.changed({ added: [n2, address] });
  follower.changed({ removed: n2 });
  clock.advance(removedPeerGraceMs / 2);
  follower.changed({ added: [n2, address] });
  clock.advance(removedPeerGraceMs * 2);
  assert.ok(peers.has(n2), "the earlier removal's timer must not drop the member added back");
});

test("this member itself is never added or removed as a peer", () => {
  const clock = new ManualClock();
  const { transport, peers } = recordingTransport();
  const follower = new PeerFollower({ self: n2, clock, parse: parseAddress });
  follower.transport = transport;
  follower.changed({ added: [n2, address] });
  follower.changed({ removed: n2 });
  clock.advance(removedPeerGraceMs);
  assert.equal(peers.size, 0);
});
