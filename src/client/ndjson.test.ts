import assert from "node:assert/strict";
import { Readable } from "node:stream";
import { test } from "node:test";
import { LineSplitter, ndjsonLines } from "./ndjson.js";

const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);

test("a line cut anywhere, even inside a multi-byte character, comes out whole once its newline arrives", () => {
  const text = '{"a":"ключ"}\n{"b":"ü€𝄞"}\n';
  const all = bytes(text);
  for (let cut = 0; cut <= all.byteLength; cut++) {
    for (let second = cut; second <= all.byteLength; second++) {
      const splitter = new LineSplitter();
      const lines = [
        ...splitter.push(all.subarray(0, cut)),
        ...splitter.push(all.subarray(cut, second)),
        ...splitter.push(all.subarray(second)),
      ];
      assert.deepEqual(lines, ['{"a":"ключ"}', '{"b":"ü€𝄞"}'], `cut at ${cut} and ${second}`);
    }
  }
});

test("several lines in one chunk; blank lines and a trailing carriage return are dropped; a cut-off tail is held", () => {
  const splitter = new LineSplitter();
  assert.deepEqual(splitter.push(bytes('{"x":1}\n\n{"y":2}\r\n{"z"')), ['{"x":1}', '{"y":2}']);
  assert.deepEqual(splitter.push(bytes(":3")), []);
  assert.deepEqual(splitter.push(bytes("}\n")), ['{"z":3}']);
});

test("ndjsonLines yields lines as chunks arrive and drops a last line without its newline", async () => {
  const chunks = Readable.from([bytes('{"n":1}\n{"n"'), bytes(':2}\n{"n":3}')]);
  const lines: string[] = [];
  for await (const line of ndjsonLines(chunks)) lines.push(line);
  assert.deepEqual(lines, ['{"n":1}', '{"n":2}']);
});
