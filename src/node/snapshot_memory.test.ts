import { test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import type { EngineName } from "../engine/engine.js";
import { encodeCommand } from "../kv/command_codec.js";
import { KvStore } from "../kv/store.js";
import { makeTempDir, removeTree } from "../storage/fs_disk.js";
import { utf8 } from "../util/bytes.js";
import { createNode, type Node } from "./create_node.js";
import { freePort } from "./free_port.test.helper.js";
import { until } from "./until.test.helper.js";

setFlagsFromString("--expose-gc");
const gc = runInNewContext("gc") as () => void;

/** The process's array buffers once garbage is gone: where whole encoded snapshots would show. */
function arrayBuffersLive(): number {
  gc();
  gc();
  return process.memoryUsage().arrayBuffers;
}

/**
 * How far the live array buffers are above `before` once they fall under `margin` above it, or
 * after 5 s: a snapshot still on its way (a leader sends one again when the answer is slow) holds
 * its bytes for a moment, one kept for good never lets them go.
 */
async function arrayBuffersSettled(before: number, margin: number): Promise<number> {
  const deadline = Date.now() + 5_000;
  for (;;) {
    const above = arrayBuffersLive() - before;
    if (above < margin || Date.now() > deadline) return above;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

const MiB = 1024 * 1024;
/** 64 values of 512 KiB: a snapshot of 32 MiB, far above what the members hold in buffers otherwise. */
const puts = 64;
const valueBytes = MiB / 2;

interface Member {
  readonly name: string;
  node: Node | undefined;
  /** Snapshots this member took or installed, in this process's life of it. */
  readonly snapshots: { kind: "taken" | "installed"; index: number; bytes: number }[];
}

async function start(dir: string, m: Member, peers: Record<string, string>, engine: EngineName): Promise<void> {
  const created = await createNode({
    id: m.name,
    dataDir: join(dir, m.name),
    peers,
    stateMachine: new KvStore(),
    snapshotEntries: puts,
    snapshotKeepEntries: 0,
    engine,
    observer: { snapshot: (info) => m.snapshots.push(info) },
  });
  assert.ok(created.ok, created.ok ? "" : created.error);
  m.node = created.node;
}

for (const engine of ["raft", "multi-paxos"] as const) {
  test(`no member holds a whole encoded snapshot once it has taken, installed or recovered one (${engine})`, async () => {
    const dir = await makeTempDir("raftkv-snapshot-memory-");
    const peers: Record<string, string> = {};
    const members: Member[] = ["n1", "n2", "n3"].map((name) => ({ name, node: undefined, snapshots: [] }));
    for (const m of members) peers[m.name] = `127.0.0.1:${await freePort()}`;
    try {
      for (const m of members) await start(dir, m, peers, engine);
      const leader = await until("a leader", () => members.find((m) => m.node?.raft.status().role === "leader"));
      const behind = members.find((m) => m !== leader)!;
      await behind.node!.stop();
      behind.node = undefined;
      const up = members.filter((m) => m !== behind);
      const before = arrayBuffersLive();

      for (let k = 0; k < puts; k++) {
        const value = new Uint8Array(valueBytes).fill(k);
        await leader.node!.raft.propose(encodeCommand({ type: "put", key: utf8(`key${k}`), value }));
      }
      const taken = await until("both members took a snapshot of the values", () => {
        const all = up.map((m) => m.snapshots.find((s) => s.kind === "taken" && s.bytes > (puts - 4) * valueBytes));
        const found = all.filter((s) => s !== undefined);
        return found.length === all.length ? found : undefined;
      });
      const bytes = Math.min(...taken.map((s) => s.bytes));
      const margin = bytes / 2;
      const afterTaking = await arrayBuffersSettled(before, margin);
      assert.ok(afterTaking < margin, `${(afterTaking / MiB).toFixed(1)} MiB more after taking ${bytes} B snapshots`);

      await start(dir, behind, peers, engine);
      await until("the member that was down installed the snapshot", () =>
        behind.snapshots.some((s) => s.kind === "installed") ? true : undefined,
      );
      const applied = leader.node!.raft.status().appliedIndex;
      await until("it caught up", () => (behind.node!.raft.status().appliedIndex >= applied ? true : undefined));
      const afterInstall = await arrayBuffersSettled(before, margin);
      assert.ok(afterInstall < margin, `${(afterInstall / MiB).toFixed(1)} MiB more after installing it`);

      for (const m of members) await m.node!.stop();
      for (const m of members) await start(dir, m, peers, engine);
      await until("a leader after the restart", () =>
        members.some((m) => m.node?.raft.status().role === "leader") ? true : undefined,
      );
      const afterRecovery = await arrayBuffersSettled(before, margin);
      assert.ok(afterRecovery < margin, `${(afterRecovery / MiB).toFixed(1)} MiB more after recovering it`);
    } finally {
      for (const m of members) await m.node?.stop();
      await removeTree(dir);
    }
  });
}
