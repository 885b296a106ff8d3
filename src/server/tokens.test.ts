import assert from "node:assert/strict";
import { test } from "node:test";
import { signToken, verifyToken } from "./tokens.js";

const key = new Uint8Array(32).fill(1);
const claims = { user: "alice", rev: 4, exp: 10_000 };

test("a token verifies with its key until it expires, and says who and at which auth revision", () => {
  const token = signToken(key, claims);
  assert.match(token, /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);
  assert.deepEqual(verifyToken(key, token, 9_999), { ok: true, claims });
  assert.deepEqual(verifyToken(key, token, 10_000), { ok: false, reason: "expired" });
});

test("another key, a changed payload or signature, or garbage is invalid, never a throw", () => {
  const token = signToken(key, claims);
  const [payload, signature] = token.split(".") as [string, string];
  const other = signToken(new Uint8Array(32).fill(2), claims);
  const forgedPayload = Buffer.from(JSON.stringify({ ...claims, user: "root" })).toString("base64url");
  for (const bad of [
    other,
    `${forgedPayload}.${signature}`,
    `${payload}.${signature.slice(0, -2)}`,
    `${payload}.`,
    "",
    "a.b.c",
    "x".repeat(5000),
    `${Buffer.from("not json").toString("base64url")}.${signature}`,
  ])
    assert.deepEqual(verifyToken(key, bad, 0), { ok: false, reason: "invalid" }, bad.slice(0, 40));
  // Well-signed but not our claims' shape: still invalid.
  const odd = signToken(key, { user: "x", rev: 1.5, exp: 1 });
  assert.deepEqual(verifyToken(key, odd, 0), { ok: false, reason: "invalid" });
});
