// Runs check-layers.mjs as CI does (a child process, judged by exit code and output) on tiny fixture trees.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

const script = path.join(path.dirname(fileURLToPath(import.meta.url)), "check-layers.mjs");

// A small tree that obeys every rule; each case adds or overwrites files on top of it.
// The comment, string, member names and test file in it must not count as impure.
const CLEAN = {
  "util/ids.ts": "export type NodeId = number & { readonly __brand: 'NodeId' };\n",
  "raft/state.ts":
    "import type { NodeId } from '../util/ids.js';\n" +
    "// Date.now() and Math.random() in a comment must not count.\n" +
    "export const note = 'setTimeout(process.exit)';\n" +
    "export interface Msg { readonly console: NodeId; process(): void }\n",
  "raft/raft.ts":
    "import type { Msg } from './state.js';\n" +
    "import { stepFollower } from './follower.js';\n" +
    "export const step = (m: Msg): void => stepFollower(m);\n",
  // The role files import the shared leaf module, never raft.ts.
  "raft/follower.ts":
    "import type { Msg } from './state.js';\nexport const stepFollower = (m: Msg): void => m.process();\n",
  "raft/raft.test.ts": "import { setTimeout } from 'node:timers/promises';\nawait setTimeout(Date.now() % 1);\n",
  "kv/kv.ts": "export { type NodeId } from '../util/ids.js';\n",
  "node/driver.ts": "import { step } from '../raft/raft.js';\nimport '../kv/kv.js';\nexport const s = step;\n",
  "storage/fs_disk.ts": "import { open } from 'node:fs/promises';\nexport const o = open;\n",
};

async function check(extra) {
  const root = mkdtempSync(path.join(tmpdir(), "check-layers-"));
  try {
    for (const [rel, text] of Object.entries({ ...CLEAN, ...extra })) {
      mkdirSync(path.dirname(path.join(root, rel)), { recursive: true });
      writeFileSync(path.join(root, rel), text);
    }
    // execFile rejects on a non-zero exit; the error carries code, stdout and stderr.
    const run = await promisify(execFile)(process.execPath, [script, root]).catch((error) => error);
    return { status: run.code ?? 0, out: run.stdout + run.stderr };
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

async function assertReports(extra, pattern) {
  const { status, out } = await check(extra);
  assert.equal(status, 1, out);
  assert.match(out, pattern);
}

// Each case spawns a Node that loads typescript (about a second), so the cases run side by side.
describe("check-layers", { concurrency: true }, () => {
  test("a clean tree passes with a one-line summary", async () => {
    const { status, out } = await check({});
    assert.equal(status, 0, out);
    assert.match(out, /^layers: 8 files, 9 imports, 0 violations\n$/);
  });

  test("raft importing node is a layering violation", () =>
    assertReports(
      { "raft/bad.ts": "import { s } from '../node/driver.js';\nexport const x = s;\n" },
      /raft\/bad\.ts:1: layer: raft may not import node/,
    ));

  test("kv importing raft is a layering violation", () =>
    assertReports(
      { "kv/bad.ts": "\nimport type { Msg } from '../raft/raft.js';\nexport type M = Msg;\n" },
      /kv\/bad\.ts:2: layer: kv may not import raft/,
    ));

  test("a folder missing from the layer table is reported", () =>
    assertReports(
      { "extra/x.ts": "export const x = 1;\n" },
      /extra\/x\.ts:1: folder "extra" is not in the layer table/,
    ));

  test("an import cycle is reported with its path", () =>
    assertReports(
      {
        "util/a.ts": "import { b } from './b.js';\nexport const a = () => b;\n",
        "util/b.ts": "export const b = 1;\nexport const load = () => import('./a.js');\n",
      },
      /util\/b\.ts:2: import cycle: util\/a\.ts → util\/b\.ts → util\/a\.ts/,
    ));

  test("a type-only import back into the importing file is a cycle too", () =>
    assertReports(
      {
        "raft/follower.ts":
          "import type { Msg } from './raft.js';\nexport const stepFollower = (m: Msg): void => m.process();\n",
      },
      /raft\/follower\.ts:1: import cycle: raft\/raft\.ts → raft\/follower\.ts → raft\/raft\.ts/,
    ));

  test("Math.random in raft is impure", () =>
    assertReports({ "raft/r.ts": "export const r = () => Math.random();\n" }, /raft\/r\.ts:1: impure: Math\.random/));

  test("Date.now() in kv is impure", () =>
    assertReports({ "kv/t.ts": "export const t = () =>\n  Date.now();\n" }, /kv\/t\.ts:2: impure: Date/));

  test("importing node:fs in raft is impure", () =>
    assertReports(
      { "raft/f.ts": 'import fs from "node:fs";\nexport const f = fs;\n' },
      /raft\/f\.ts:1: impure: imports Node builtin "node:fs"/,
    ));

  test("node:fs outside storage/fs_disk.ts is reported", () =>
    assertReports(
      { "storage/wal.ts": "import { readFileSync } from 'fs';\nexport const r = readFileSync;\n" },
      /storage\/wal\.ts:1: only .*fs_disk\.ts may import "fs"/,
    ));

  test("a timer in src/node outside the clock module is reported", () =>
    assertReports(
      { "node/ticker.ts": "export const t = (f: () => void): unknown => setInterval(f, 10);\n" },
      /node\/ticker\.ts:1: clock: setInterval outside node\/real_clock\.ts/,
    ));

  test("performance.now() and node:perf_hooks in src/node outside the clock module are reported", async () => {
    const { status, out } = await check({
      "node/now.ts":
        "import { performance as p } from 'node:perf_hooks';\nexport const now = (): number => performance.now() + p.now();\n",
    });
    assert.equal(status, 1, out);
    assert.match(out, /node\/now\.ts:1: clock: imports "node:perf_hooks"/);
    assert.match(out, /node\/now\.ts:2: clock: performance outside/);
  });

  test("the clock module itself may use timers and performance", async () => {
    const { status, out } = await check({
      "node/real_clock.ts":
        "import { performance } from 'node:perf_hooks';\nexport const now = (): number => performance.now() + Date.now();\nexport const soon = (f: () => void): void => void setImmediate(f);\n",
    });
    assert.equal(status, 0, out);
  });
});
