// Every planted bug must still find its text once: a refactor that moves the text would otherwise
// leave `npm run mutants` planting nothing, or failing only when someone next runs it.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import path from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { mutants } from "./list.mjs";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");

test("each planted bug's text occurs exactly once in its file, and ids are unique", () => {
  assert.equal(new Set(mutants.map((m) => m.id)).size, mutants.length);
  for (const m of mutants) {
    const text = readFileSync(path.join(root, m.file), "utf8");
    assert.equal(text.split(m.find).length - 1, 1, `${m.id}: text not found exactly once in ${m.file}`);
    assert.notEqual(m.find, m.replace, `${m.id} plants nothing`);
  }
});
