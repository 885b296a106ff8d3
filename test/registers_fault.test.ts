import assert from "node:assert/strict";
import { test } from "node:test";
import { runRegisterFault } from "./registers_fault/run.js";

test("registers fault run: 15 s of SIGKILLs, pauses and restarts leave a linearizable history", async (t) => {
  const report = await runRegisterFault({ seconds: 15, clients: 6, registers: 3 });
  t.diagnostic(JSON.stringify(report));
  assert.deepEqual(report.violations, []);
  assert.ok(report.answered >= 50, `only ${report.answered} answered calls`);
  assert.ok(report.versions >= 5, `only ${report.versions} versions written`);
});
