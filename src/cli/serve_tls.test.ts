import assert from "node:assert/strict";
import { test } from "node:test";
import { createLogger } from "../server/log.js";
import { parseServeFlags } from "./serve_flags.js";
import { startServeTls } from "./serve_tls.js";

async function warningsFor(args: string[]): Promise<string[]> {
  let output = "";
  const log = createLogger({ node: "n1", level: "warn", destination: { write: (chunk) => (output += chunk) } });
  const tls = await startServeTls(parseServeFlags(args, {})!, log);
  tls.stop();
  return output
    .split("\n")
    .filter((line) => line !== "")
    .map((line) => (JSON.parse(line) as { msg: string }).msg);
}

test("a port open beyond loopback without TLS is warned about at start; loopback ones are not", async () => {
  assert.deepEqual(await warningsFor([]), []);
  assert.deepEqual(await warningsFor(["--listen-client", "[::1]:8001", "--listen-peer", "localhost:7001"]), []);
  const open = await warningsFor(["--listen-client", "0.0.0.0:8001", "--listen-peer", "10.0.0.1:7001"]);
  assert.equal(open.length, 2);
  assert.match(open[0]!, /client port listens on 0\.0\.0\.0:8001, beyond loopback, without TLS/);
  assert.match(open[1]!, /peer port listens on 10\.0\.0\.1:7001, beyond loopback, without TLS/);
});
