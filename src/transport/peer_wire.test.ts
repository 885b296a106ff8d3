import assert from "node:assert/strict";
import { test } from "node:test";
import { nodeId, type NodeId } from "../util/ids.js";
import { engineWire, type EngineCodec } from "./peer_wire.js";
import { TcpTransport } from "./tcp.js";
import { heartbeat, host, n1, n2, open, startNode, until } from "./tcp.test.helper.js";

/** A toy engine's message and codec: from, to and a text, each one byte or UTF-8. */
interface Note {
  readonly from: NodeId;
  readonly to: NodeId;
  readonly text: string;
}

const notes: EngineCodec<Note> = {
  engine: "notes",
  from: (m) => m.from,
  to: (m) => m.to,
  kind: () => "note",
  encode: (m) => new Uint8Array([m.from, m.to, ...new TextEncoder().encode(m.text)]),
  decode: (bytes) =>
    bytes.length < 2 || bytes[0] === 0 || bytes[1] === 0
      ? { ok: false, error: "a note needs a sender and a recipient" }
      : {
          ok: true,
          message: {
            from: nodeId(bytes[0]!),
            to: nodeId(bytes[1]!),
            text: new TextDecoder().decode(bytes.subarray(2)),
          },
        },
};

async function startNotes(id: NodeId, peers: ReadonlyMap<NodeId, { host: string; port: number }> = new Map()) {
  const received: Note[] = [];
  const warnings: string[] = [];
  const t = new TcpTransport<Note>({
    id,
    listen: { host, port: 0 },
    peers,
    wire: engineWire(notes),
    onMessage: (m) => received.push(m),
    onWarning: (text) => warnings.push(text),
  });
  await t.start();
  open.push(t as unknown as TcpTransport);
  return { t, received, warnings, address: t.listenAddress() };
}

test("another engine's messages cross TCP whole in engine-message frames", async () => {
  const b = await startNotes(n2);
  const a = await startNotes(n1, new Map([[n2, b.address]]));
  a.t.send([
    { from: n1, to: n2, text: "phase 1a" },
    { from: n1, to: n2, text: "phase 2a" },
  ]);
  await until(() => b.received.length === 2, "both notes");
  assert.deepEqual(
    b.received.map((m) => m.text),
    ["phase 1a", "phase 2a"],
  );
  assert.deepEqual(b.warnings, []);
});

test("a member speaking another engine is refused at connect, never mis-decoded", async () => {
  const notesMember = await startNotes(n2);
  const raftMember = await startNode(n1, { peers: new Map([[n2, notesMember.address]]) });
  raftMember.t.send([heartbeat(n1, n2, 7)]);
  await until(() => notesMember.warnings.length > 0, "a warning at the notes member");
  assert.match(notesMember.warnings[0]!, /speaks the raft engine, this member notes/);
  assert.equal(notesMember.received.length, 0);
  assert.ok(notesMember.t.stats().decodeErrors >= 1);
});
