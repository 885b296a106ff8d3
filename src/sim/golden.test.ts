import assert from "node:assert/strict";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { fsDisk } from "../storage/index.js";
import { lineDiff } from "./golden/diff.js";
import { ScriptRunner } from "./golden/run.js";
import { parseScript, rewriteScript } from "./golden/script.js";

// The scripts are read from the source tree, not dist/ (tsc copies no text files), so a rewrite lands where git sees it.
const TESTDATA = fileURLToPath(new URL("../../src/sim/testdata/", import.meta.url));
const REWRITE = process.env["RAFTKV_REWRITE"] === "1";

const scripts = (await fsDisk.list(TESTDATA)).filter((name) => name.endsWith(".txt")).sort();

test("golden traces: the testdata directory holds scripts", () => {
  assert.ok(scripts.length > 0, `no .txt scripts in ${TESTDATA}`);
});

for (const name of scripts) {
  test(`golden trace ${name}`, async () => {
    const path = TESTDATA + name;
    const text = new TextDecoder().decode(await fsDisk.readFile(path));
    const cases = parseScript(text);
    const runner = new ScriptRunner();
    const outputs = cases.map((c) => runner.run(c));
    if (REWRITE) {
      const rewritten = rewriteScript(text, cases, outputs);
      if (rewritten !== text) await writeText(path, rewritten);
      return;
    }
    // Later cases run on the state the first difference left, so they tell little more: list them only.
    const differing = cases.flatMap((c, k) => (sameLines(c.expected, outputs[k]!) ? [] : [{ c, actual: outputs[k]! }]));
    const first = differing[0];
    if (first === undefined) return;
    const others = differing.slice(1).map(({ c }) => c.line);
    assert.fail(
      [
        `${name}:${first.c.line}: output of \`${[first.c.command, ...first.c.args].join(" ")}\` differs (- expected, + actual):`,
        ...lineDiff(first.c.expected, first.actual).map((line) => `    ${line}`),
        ...(others.length === 0 ? [] : [`the cases at lines ${others.join(", ")} differ too`]),
        "if the change is intended, `npm run test:rewrite` accepts the new traces (review them with git diff)",
      ].join("\n"),
    );
  });
}

function sameLines(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((line, k) => line === b[k]);
}

/** Replaces the file by renaming a complete copy over it, so an interrupted rewrite never leaves half a script. */
async function writeText(path: string, text: string): Promise<void> {
  const temp = `${path}.rewrite-${process.pid}`;
  const file = await fsDisk.open(temp, { create: true });
  try {
    await file.write(new TextEncoder().encode(text), 0);
  } finally {
    await file.close();
  }
  await fsDisk.rename(temp, path);
}
