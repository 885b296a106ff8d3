import assert from "node:assert/strict";
import { test } from "node:test";
import { durationMs } from "./duration.js";
import { parseServeFlags } from "./serve_flags.js";

test("durations take a whole number and a unit", () => {
  assert.equal(durationMs("500ms"), 500);
  assert.equal(durationMs("30s"), 30_000);
  assert.equal(durationMs("5m"), 300_000);
  assert.equal(durationMs("1h"), 3_600_000);
  for (const bad of ["0s", "5", "1.5s", "-1s", "5 m", "", "10d"]) assert.equal(durationMs(bad), undefined, bad);
});

test("--auth-token-ttl defaults to 5 minutes, and refuses what is no duration", () => {
  assert.equal(parseServeFlags([], {})?.authTokenTtlMs, 300_000);
  assert.equal(parseServeFlags(["--auth-token-ttl", "2s"], {})?.authTokenTtlMs, 2000);
  assert.equal(parseServeFlags([], { RAFTKV_AUTH_TOKEN_TTL: "1h" })?.authTokenTtlMs, 3_600_000);
  assert.throws(() => parseServeFlags(["--auth-token-ttl", "soon"], {}), /--auth-token-ttl is a duration/);
});
