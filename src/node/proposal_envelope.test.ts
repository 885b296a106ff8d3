import assert from "node:assert/strict";
import { test } from "node:test";
import { nodeId } from "../util/ids.js";
import { unwrap, wrapForwarded, wrapLocal } from "./proposal_envelope.js";

const command = new Uint8Array([9, 8, 7]);

test("proposal envelope: local and forwarded commands unwrap to themselves, with the forwarder", () => {
  assert.deepEqual(unwrap(wrapLocal(command)), { command });
  const from = { origin: nodeId(0xfedc_ba98), epoch: 0xffff_ffff, seq: 7 };
  assert.deepEqual(unwrap(wrapForwarded(command, from)), { command, from });
  assert.deepEqual(unwrap(wrapLocal(new Uint8Array(0))), { command: new Uint8Array(0) });
});

test("proposal envelope: bytes no node wrote unwrap to nothing", () => {
  assert.equal(unwrap(new Uint8Array([2, 1, 2])), undefined);
  assert.equal(unwrap(new Uint8Array([1, 0, 0, 0, 1])), undefined, "a forwarded header cut short");
});
