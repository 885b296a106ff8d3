#!/usr/bin/env node
// `npm run mutants [-- --seeds 2000] [--only id,id]`: plants each bug of mutants/list.mjs in a
// copy of the tree, builds it, and sweeps seeds until the simulator catches it. Prints which check
// caught each bug at which seed, and `caught N/N`; exits 1 if any bug survived the sweep.
import { spawn, spawnSync } from "node:child_process";
import { cpSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { mutants } from "./mutants/list.mjs";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const { values } = parseArgs({
  options: { seeds: { type: "string", default: "2000" }, only: { type: "string" } },
  strict: true,
});
const seeds = Number(values.seeds);
const only = values.only === undefined ? undefined : new Set(values.only.split(","));
const chosen = mutants.filter((m) => only === undefined || only.has(m.id));

/** A copy of the tree with one bug planted; its node_modules is the real one. */
function plant(mutant) {
  const dir = mkdtempSync(path.join(tmpdir(), `raftkv-mutant-${mutant.id}-`));
  cpSync(path.join(root, "src"), path.join(dir, "src"), { recursive: true });
  for (const file of ["tsconfig.json", "package.json"]) cpSync(path.join(root, file), path.join(dir, file));
  symlinkSync(path.join(root, "node_modules"), path.join(dir, "node_modules"), "dir");
  const file = path.join(dir, mutant.file);
  const text = readFileSync(file, "utf8");
  const count = text.split(mutant.find).length - 1;
  if (count !== 1)
    throw new Error(`${mutant.id}: the text to replace occurs ${count} times in ${mutant.file} (expected once)`);
  writeFileSync(file, text.replace(mutant.find, mutant.replace));
  return dir;
}

function build(dir) {
  const tsc = path.join(root, "node_modules", "typescript", "bin", "tsc");
  const result = spawnSync(process.execPath, [tsc, "-p", path.join(dir, "tsconfig.json")], { encoding: "utf8" });
  return result.status === 0 ? undefined : (result.stdout + result.stderr).trim().split("\n")[0];
}

/** Sweeps until the first violation; resolves with it, or undefined when every seed passed. */
function sweep(dir, mutant) {
  // A mutant with its own simulator (Basic Paxos's registers) names it; the others run the shared one.
  const engine = mutant.sim === undefined ? mutant.engine : undefined;
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [
        path.join(dir, mutant.sim ?? path.join("dist", "sim", "cli.js")),
        "--seeds",
        String(seeds),
        "--stop-at-first",
        ...(engine === undefined ? [] : ["--engine", engine]),
      ],
      { stdio: ["ignore", "pipe", "pipe"] },
    );
    let output = "";
    child.stdout.on("data", (d) => (output += d));
    child.stderr.on("data", (d) => (output += d));
    child.on("error", reject);
    child.on("close", () => {
      const first = /^seed (\d+): (\w+): (.*)$/m.exec(output);
      resolve(first === null ? undefined : { seed: Number(first[1]), check: first[2], message: first[3] });
    });
  });
}

const rows = [];
const started = performance.now();
for (const mutant of chosen) {
  const t0 = performance.now();
  const dir = plant(mutant);
  try {
    const broken = build(dir);
    const caught = broken === undefined ? await sweep(dir, mutant) : undefined;
    const seconds = ((performance.now() - t0) / 1000).toFixed(0);
    const row = { id: mutant.id, caught, broken, unreachable: mutant.unreachable };
    rows.push(row);
    const survived =
      mutant.unreachable === undefined
        ? `SURVIVED ${seeds} seeds`
        : `survived ${seeds} seeds, as expected: ${mutant.unreachable}`;
    const verdict =
      broken !== undefined
        ? `DID NOT BUILD: ${broken}`
        : caught === undefined
          ? survived
          : `caught by ${caught.check} at seed ${caught.seed}`;
    console.log(`${mutant.id.padEnd(26)} ${verdict} (${seconds} s)`);
    if (caught !== undefined) console.log(`${"".padEnd(26)} ${caught.message.slice(0, 160)}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
const caughtCount = rows.filter((r) => r.caught !== undefined).length;
const expected = rows.filter(
  (r) => r.caught === undefined && r.broken === undefined && r.unreachable !== undefined,
).length;
console.log(
  `\ncaught ${caughtCount}/${rows.length}, ${expected} unreachable by design (${((performance.now() - started) / 1000).toFixed(0)} s, up to ${seeds} seeds each)`,
);
process.exitCode = caughtCount + expected === rows.length ? 0 : 1;
