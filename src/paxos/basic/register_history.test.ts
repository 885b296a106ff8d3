import assert from "node:assert/strict";
import { test } from "node:test";
import { utf8 } from "../../util/bytes.js";
import { checkRegisterHistory, type RegisterOperation } from "./register_history.js";

const r = "r";

function write(
  expected: number,
  value: string,
  at: [number, (number | undefined)?],
  version: number,
  won?: string,
): RegisterOperation {
  const [invokedAt, answeredAt] = at;
  const cas = { expected, value: utf8(value) };
  if (answeredAt === undefined) return { register: r, invokedAt, answeredAt, cas, outcome: undefined };
  const outcome =
    won === undefined
      ? { type: "written" as const, version }
      : { type: "conflict" as const, version, value: won === "" ? undefined : utf8(won) };
  return { register: r, invokedAt, answeredAt, cas, outcome };
}

function read(at: [number, number], version: number, value?: string): RegisterOperation {
  const outcome = { type: "value" as const, version, value: value === undefined ? undefined : utf8(value) };
  return { register: r, invokedAt: at[0], answeredAt: at[1], cas: undefined, outcome };
}

test("history: sequential and overlapping histories that some order explains pass", () => {
  assert.deepEqual(
    checkRegisterHistory([
      read([0, 1], 0),
      write(0, "a", [2, 5], 1),
      read([3, 4], 0), // overlaps the write: may come before it
      read([6, 7], 1, "a"),
      write(0, "b", [6, 9], 1, "a"),
      write(1, "c", [8, undefined], 2), // no answer, yet its value is read: it took effect
      read([10, 11], 2, "c"),
      write(5, "x", [12, 13], 2, "c"), // from a version not reached: the latest was 2
    ]),
    [],
  );
});

test("history: a stale read, a lost write and a write answered out of order are caught", () => {
  const stale = checkRegisterHistory([write(0, "a", [0, 1], 1), read([2, 3], 0)]);
  assert.match(stale.join(), /version 1 must be written after 2 and by 1: not linearizable/);
  const lost = checkRegisterHistory([write(0, "a", [0, 1], 1), read([2, 3], 1, "b")]);
  assert.match(lost.join(), /two values answered for version 1/);
  const early = checkRegisterHistory([read([0, 1], 1, "a"), write(0, "a", [2, 3], 1)]);
  assert.match(early.join(), /not linearizable/);
  const order = checkRegisterHistory([write(1, "b", [0, 1], 2), write(0, "a", [2, 3], 1)]);
  assert.match(order.join(), /not linearizable/);
});

test("history: a conflict must name another version and never hold its own value; values need one writer", () => {
  assert.match(
    checkRegisterHistory([write(1, "a", [0, 1], 1, "z")]).join(),
    /a conflict from version 1 names version 1/,
  );
  const own = checkRegisterHistory([write(0, "a", [0, 1], 1, "a")]);
  assert.match(own.join(), /holds the value of a call answered conflict/);
  assert.match(checkRegisterHistory([read([0, 1], 1, "ghost")]).join(), /written by 0 calls/);
  const wrong = checkRegisterHistory([write(0, "a", [0, 1], 2)]);
  assert.match(wrong.join(), /not the expected version's successor/);
});
