// The published package holds the library, the CLI and the simulator (raftkv/testing), and nothing
// that only our own tests use: what `npm pack` would publish is checked, not what we meant to list.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import path from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

test("npm pack publishes no tests, test helpers or build info", () => {
  const npm = process.platform === "win32" ? "npm.cmd" : "npm";
  const out = execFileSync(npm, ["pack", "--dry-run", "--json", "--ignore-scripts"], { cwd: root, encoding: "utf8" });
  const files = JSON.parse(out)[0].files.map((f) => f.path);
  assert.ok(files.includes("dist/cli/main.js"), "the CLI is published");
  const leaked = files.filter((f) => /(^|\/)test\/|\.test\.|test_support|\.tsbuildinfo$/.test(f));
  assert.deepEqual(leaked, []);
});
