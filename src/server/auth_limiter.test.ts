import assert from "node:assert/strict";
import { test } from "node:test";
import { AuthFailureLimiter } from "./auth_limiter.js";

test("five failures from an address are free, the sixth attempt waits, and time restores one a second", () => {
  let now = 0;
  const limiter = new AuthFailureLimiter(() => now);
  for (let i = 0; i < 5; i++) {
    assert.equal(limiter.retryAfterSeconds("10.0.0.1"), 0);
    limiter.failed("10.0.0.1");
  }
  assert.equal(limiter.retryAfterSeconds("10.0.0.1"), 1);
  assert.equal(limiter.retryAfterSeconds("10.0.0.2"), 0, "other addresses are not affected");
  now += 999;
  assert.equal(limiter.retryAfterSeconds("10.0.0.1"), 1);
  now += 1;
  assert.equal(limiter.retryAfterSeconds("10.0.0.1"), 0);
  limiter.failed("10.0.0.1");
  assert.equal(limiter.retryAfterSeconds("10.0.0.1"), 1);
});
