import assert from "node:assert/strict";
import { test } from "node:test";
import { HistoryRecorder, describeOperation } from "./history.js";
import { checkHistory } from "./linearizability.js";

test("the recorder builds a history; operations never completed are unknown", () => {
  const r = new HistoryRecorder();
  const a = r.invoke({ client: 1, key: "k", op: { type: "put", value: "a" }, at: 0 });
  const b = r.invoke({ client: 2, key: "k", op: { type: "get" }, at: 1 });
  const c = r.invoke({ client: 3, key: "k", op: { type: "put", value: "c" }, at: 2 });
  const d = r.invoke({ client: 4, key: "k", op: { type: "cas", expected: "zz", value: "d" }, at: 2 });
  r.complete(a, { outcome: "ok", at: 3 });
  r.complete(b, { outcome: "ok", at: 4, result: "a" });
  r.complete(d, { outcome: "fail", at: 5 });
  assert.equal(r.pendingCount, 1);
  const h = r.history();
  assert.deepEqual(
    h.map((o) => [o.id, o.outcome, o.completedAt]),
    [
      [a.id, "ok", 3],
      [b.id, "ok", 4],
      [c.id, "unknown", undefined],
      [d.id, "fail", 5],
    ],
  );
  assert.equal(describeOperation(h[1]!), '#1 client 2 get → "a" [1, 4]');
  assert.equal(describeOperation(h[2]!), '#2 client 3 put("c") unknown [2, ∞]');
  assert.ok(checkHistory(h).ok);
  assert.throws(() => r.complete(a, { outcome: "ok", at: 9 }), /not pending/);
  assert.throws(() => r.complete(c, { outcome: "ok", at: 1 }), /before invokedAt/);
});
