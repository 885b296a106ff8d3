import assert from "node:assert/strict";
import { test } from "node:test";
import { lineDiff } from "./diff.js";
import { parseScript, rewriteScript } from "./script.js";

const SCRIPT = `# a comment
cluster nodes=3 prevote=false
1: log=1,2
----

# no output yet
campaign 1
----
old line

status
----
`;

test("script: commands, arguments, input lines and expected output; comments and blank lines skipped", () => {
  const cases = parseScript(SCRIPT);
  assert.deepEqual(
    cases.map((c) => ({
      line: c.line,
      command: c.command,
      args: c.args,
      options: [...c.options],
      input: c.input,
      expected: c.expected,
    })),
    [
      {
        line: 2,
        command: "cluster",
        args: [],
        options: [
          ["nodes", "3"],
          ["prevote", "false"],
        ],
        input: ["1: log=1,2"],
        expected: [],
      },
      { line: 7, command: "campaign", args: ["1"], options: [], input: [], expected: ["old line"] },
      { line: 11, command: "status", args: [], options: [], input: [], expected: [] },
    ],
  );
});

test("script: rewriting replaces only the outputs, and rewriting with the expected outputs changes nothing", () => {
  const cases = parseScript(SCRIPT);
  assert.equal(
    rewriteScript(
      SCRIPT,
      cases,
      cases.map((c) => c.expected),
    ),
    SCRIPT,
  );
  const rewritten = rewriteScript(SCRIPT, cases, [["a"], [], ["b", "c"]]);
  assert.equal(
    rewritten,
    SCRIPT.replace("----\n\n#", "----\na\n\n#")
      .replace("old line\n", "")
      .replace("status\n----\n", "status\n----\nb\nc\n"),
  );
  assert.deepEqual(
    parseScript(rewritten).map((c) => c.expected),
    [["a"], [], ["b", "c"]],
  );
});

test("script: a command without its ---- line is an error naming the line", () => {
  assert.throws(() => parseScript("campaign 1\n\nstatus\n----\n"), /line 1: "campaign 1" has no ----/);
});

test("diff: changed lines marked - and +, far unchanged lines collapsed", () => {
  const expected = ["a", "b", "c", "d", "e", "f", "g"];
  const actual = ["a", "b", "c", "d", "e", "F", "g"];
  assert.deepEqual(lineDiff(expected, actual, 1), ["  …", "  e", "- f", "+ F", "  g"]);
});
