import assert from "node:assert/strict";
import { test } from "node:test";
import {
  integerParser,
  parseConsistency,
  parseDuration,
  parseEndpointList,
  parseEnvFlag,
  parseMix,
} from "./options.js";

test("durations: units, combinations and decimals", () => {
  const cases: [string, number][] = [
    ["30s", 30_000],
    ["500ms", 500],
    ["2m", 120_000],
    ["1h", 3_600_000],
    ["1m30s", 90_000],
    ["1.5s", 1500],
    [" 10s ", 10_000],
  ];
  for (const [text, ms] of cases) assert.equal(parseDuration(text), ms, text);
});

test("bad durations say what is expected", () => {
  assert.throws(() => parseDuration("30"), /"30" has no unit: write e.g. 30s or 30ms/);
  for (const text of ["", "abc", "-5s", "5 s", "10d", "s", "1.s", "5sec"]) {
    assert.throws(
      () => parseDuration(text),
      /is not a duration: use a number and a unit ms, s, m or h/,
      JSON.stringify(text),
    );
  }
  assert.throws(() => parseDuration("0s"), /zero/);
  assert.throws(() => parseDuration("169h"), /maximum of 7 days/);
});

test("mix: weights by op, unnamed ops weigh 0", () => {
  assert.deepEqual(parseMix("put=1,get=0,cas=0"), { put: 1, get: 0, cas: 0 });
  assert.deepEqual(parseMix("get=9, put=1"), { put: 1, get: 9, cas: 0 });
  assert.deepEqual(parseMix("cas=0.5"), { put: 0, get: 0, cas: 0.5 });
});

test("bad mixes name the problem", () => {
  assert.throws(() => parseMix("put=1,del=1"), /unknown op "del": the ops are put, get, cas/);
  assert.throws(() => parseMix("put=1,put=2"), /"put" is given twice/);
  assert.throws(() => parseMix("put"), /"put" is not op=weight/);
  assert.throws(() => parseMix("put=-1"), /not op=weight/);
  assert.throws(() => parseMix("put=x"), /not op=weight/);
  assert.throws(() => parseMix(""), /not op=weight/);
  assert.throws(() => parseMix("put=0,get=0"), /every weight is 0/);
});

test("integers, endpoints, consistency and boolean environment values", () => {
  const clients = integerParser(1, 10_000);
  assert.equal(clients("64"), 64);
  for (const bad of ["0", "10001", "1.5", "-1", "abc", "", "1e3"])
    assert.throws(() => clients(bad), /expected an integer from 1 to 10000/, bad);
  assert.deepEqual(parseEndpointList("127.0.0.1:8001, localhost:8002,http://[::1]:8003"), [
    "127.0.0.1:8001",
    "localhost:8002",
    "[::1]:8003",
  ]);
  assert.throws(() => parseEndpointList("127.0.0.1"), /bad endpoint "127.0.0.1": expected host:port/);
  assert.throws(() => parseEndpointList("a:99999"), /bad endpoint/);
  assert.throws(() => parseEndpointList(","), /no endpoints/);
  assert.equal(parseConsistency("serializable"), "serializable");
  assert.throws(() => parseConsistency("strong"), /expected one of linearizable, lease, serializable/);
  assert.equal(parseEnvFlag("X", "1"), true);
  assert.equal(parseEnvFlag("X", "TRUE"), true);
  assert.equal(parseEnvFlag("X", "0"), false);
  assert.equal(parseEnvFlag("X", ""), false);
  assert.throws(() => parseEnvFlag("RAFTKV_JSON", "maybe"), /RAFTKV_JSON="maybe" is not a boolean/);
});
