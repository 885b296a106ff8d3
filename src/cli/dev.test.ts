import { test } from "node:test";
import assert from "node:assert/strict";
import { readableLogLine } from "./dev.js";

test("raftkv dev shows members' JSON log lines readably and passes anything else through", () => {
  const line = JSON.stringify({
    level: "info",
    time: "2025-01-02T03:04:05.678Z",
    pid: 1,
    node: "n1",
    term: 3,
    leader: "n2",
    msg: "leader is n2",
  });
  assert.equal(readableLogLine(line), "03:04:05.678 INFO  term 3  leader is n2  leader=n2");
  assert.equal(
    readableLogLine('{"level":"warn","node":"n1","msg":"x","members":["n1","n2"]}'),
    ' WARN  x  members=["n1","n2"]',
  );
  assert.equal(readableLogLine("plain text"), "plain text");
  assert.equal(readableLogLine("{not json"), "{not json");
  assert.equal(readableLogLine('{"no":"msg"}'), '{"no":"msg"}');
});
