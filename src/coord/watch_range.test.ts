import assert from "node:assert/strict";
import { test } from "node:test";
import { WatcherIndex, type WatchRange } from "./watch_range.js";

interface Named {
  readonly name: string;
  readonly range: WatchRange;
}

function covering(index: WatcherIndex<Named>, key: string): string[] {
  const names: string[] = [];
  index.forEachCovering(key, (w) => names.push(w.name));
  return names.sort();
}

test("the index finds exactly the watchers covering a key, and forgets removed ones", () => {
  const index = new WatcherIndex<Named>();
  const watchers: Named[] = [
    { name: "key ab", range: { key: "ab" } },
    { name: "key ab again", range: { key: "ab" } },
    { name: "prefix a", range: { prefix: "a" } },
    { name: "prefix b", range: { prefix: "b" } },
    { name: "prefix ab", range: { prefix: "ab" } },
    { name: "everything", range: { prefix: "" } },
    { name: "[aa, b)", range: { from: "aa", to: "b" } },
    { name: "from b", range: { from: "b" } },
  ];
  for (const w of watchers) index.add(w);
  assert.deepEqual(covering(index, "ab"), ["[aa, b)", "everything", "key ab", "key ab again", "prefix a", "prefix ab"]);
  assert.deepEqual(covering(index, "b"), ["everything", "from b", "prefix b"]);
  assert.deepEqual(covering(index, "a"), ["everything", "prefix a"]);
  for (const w of watchers) if (w.name !== "prefix b" && w.name !== "key ab again") index.remove(w);
  assert.deepEqual(covering(index, "ab"), ["key ab again"]);
  assert.deepEqual(covering(index, "b"), ["prefix b"], "prefix b's length is still watched after prefix a went");
  index.remove(watchers[3]!);
  index.remove(watchers[1]!);
  index.remove(watchers[1]!);
  assert.deepEqual([covering(index, "ab"), covering(index, "b")], [[], []]);
});
