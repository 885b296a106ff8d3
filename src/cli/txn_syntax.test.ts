import assert from "node:assert/strict";
import { test } from "node:test";
import { exitCodes, type CliIo } from "./context.js";
import { runCli } from "./program.js";
import { parseCompare, parseOp, spell } from "./txn_syntax.js";

test("compares: value(KEY) = VALUE and mod(KEY) = REVISION, bare or quoted, spaces optional", () => {
  assert.deepEqual(parseCompare("value(color) = red"), { key: "color", value: "red" });
  assert.deepEqual(parseCompare("value(color)=red"), { key: "color", value: "red" });
  assert.deepEqual(parseCompare('  value ( "my key" ) = "hello world" '), { key: "my key", value: "hello world" });
  assert.deepEqual(parseCompare('value(k) = ""'), { key: "k", value: "" });
  assert.deepEqual(parseCompare("value(a=b) = c=d)"), { key: "a=b", value: "c=d)" });
  assert.deepEqual(parseCompare('value("a)b") = "say \\"hi\\"\\n"'), { key: "a)b", value: 'say "hi"\n' });
  assert.deepEqual(parseCompare("mod(lock) = 0"), { key: "lock", modRevision: 0 });
  assert.deepEqual(parseCompare('mod("x y") = "42"'), { key: "x y", modRevision: 42 });
});

test("ops: put KEY VALUE, get KEY, del KEY (or delete)", () => {
  assert.deepEqual(parseOp("put k v"), { type: "put", key: "k", value: "v" });
  assert.deepEqual(parseOp('put "my key" "a b"'), { type: "put", key: "my key", value: "a b" });
  assert.deepEqual(parseOp("put k a=b(c)"), { type: "put", key: "k", value: "a=b(c)" });
  assert.deepEqual(parseOp('  put  k  ""  '), { type: "put", key: "k", value: "" });
  assert.deepEqual(parseOp("get k"), { type: "get", key: "k" });
  assert.deepEqual(parseOp('del "\\u00e9t\\u00e9"'), { type: "delete", key: "été" });
  assert.deepEqual(parseOp("delete k"), { type: "delete", key: "k" });
});

test("bad clauses say what is wrong", () => {
  const compares: [string, RegExp][] = [
    ["color = red", /expected value\(KEY\) = VALUE or mod\(KEY\) = REVISION/],
    ["version(k) = 1", /expected value\(KEY\)/],
    ["value(k)", /the only comparison is =/],
    ["value(k) > 1", /the only comparison is =/],
    ["value(k) == 1", /the only comparison is =/],
    ["value(k) =", /expected value\(KEY\)/],
    ["value(k) = a b", /expected value\(KEY\)/],
    ["value(k = a", /expected value\(KEY\)/],
    ['value("") = a', /a key is at least one byte/],
    ["mod(k) = -1", /a revision, a whole number ≥ 0; got -1/],
    ["mod(k) = 1.5", /a revision, a whole number/],
    ['value(k) = "open', /a quoted word is not closed: "open/],
    ['value(k) = "\\x"', /is not a JSON string/],
  ];
  for (const [text, pattern] of compares) assert.throws(() => parseCompare(text), pattern, text);
  const ops: [string, RegExp][] = [
    ["", /expected put KEY VALUE, get KEY or del KEY/],
    ["set k v", /expected put KEY VALUE, get KEY or del KEY/],
    ["put k", /put KEY VALUE takes 2 words after put, got 1 \(quote a word with spaces: "my key"\)/],
    ["put my key value", /put KEY VALUE takes 2 words after put, got 3/],
    ["get", /get KEY takes 1 word after get, got 0/],
    ["del a b", /del KEY takes 1 word after del, got 2/],
    ['get ""', /a key is at least one byte/],
    ['get a"b', /a"b has a double quote inside: quote the whole word as a JSON string/],
    ['get "a"b', /put a space after the closing quote of "a"/],
  ];
  for (const [text, pattern] of ops) assert.throws(() => parseOp(text), pattern, text);
});

test("spell writes a word back the way a clause reads it", () => {
  for (const word of ["k", "a=b", "my key", "", 'say "hi"', "a(b)", "tab\there", "été"]) {
    assert.deepEqual(parseOp(`put k ${spell(word)}`), { type: "put", key: "k", value: word }, word);
  }
});

test("raftkv txn: bad clauses and empty or self-contradicting txns are usage errors (exit 2, one line)", async () => {
  const cases: [string[], RegExp][] = [
    [[], /^error: nothing to do: give --if, --then or --else \(raftkv txn --help\)\n$/],
    [["--if", "value(k) > 1"], /^error: option '--if <compare>' argument 'value\(k\) > 1' is invalid\. the only/],
    [["--then", "put k"], /^error: option '--then <op>' argument 'put k' is invalid\. put KEY VALUE takes 2/],
    [["--else", "frob k"], /^error: option '--else <op>' argument 'frob k' is invalid\. expected put KEY/],
    [
      ["--then", "put k 1", "--then", "del k"],
      /^error: the --then ops write k twice: a branch may write a key once\n$/,
    ],
    [["--else", 'put "a b" 1', "--else", 'put "a b" 2'], /^error: the --else ops write "a b" twice/],
  ];
  for (const [argv, pattern] of cases) {
    const out: string[] = [];
    const err: string[] = [];
    const io: CliIo = { stdout: { write: (s) => out.push(String(s)) }, stderr: { write: (s) => err.push(String(s)) } };
    const code = await runCli(["txn", ...argv, "--endpoints", "127.0.0.1:1"], io);
    assert.equal(code, exitCodes.usage, argv.join(" "));
    assert.match(err.join(""), pattern);
    assert.equal(err.join("").trimEnd().split("\n").length, 1);
    assert.equal(out.join(""), "");
  }
});

test("raftkv txn --help documents the clause syntax and the exit statuses", async () => {
  const out: string[] = [];
  const io: CliIo = { stdout: { write: (s) => out.push(String(s)) }, stderr: { write: () => true } };
  assert.equal(await runCli(["txn", "--help"], io), exitCodes.ok);
  const help = out.join("");
  assert.match(help, /--if +'value\(KEY\) = VALUE'/);
  assert.match(help, /--if +'mod\(KEY\) = REVISION' .*mod\(KEY\) = 0: KEY does not exist/);
  assert.match(help, /--then 'put KEY VALUE' \| 'get KEY' \| 'del KEY'/);
  assert.match(help, /a JSON string in double quotes/);
  assert.match(help, /Exit status: 0 the --then ops ran; 1 an --if did not hold/);
});
