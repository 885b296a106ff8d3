/**
 * A small Multi-Paxos process matrix inside `npm test` (docs/engines.md): process test files that
 * cover the KV API, leases, bad input and a leader's death, run again with RAFTKV_ENGINE=multi-paxos
 * in a child `node --test`, so that CI sees every member on Multi-Paxos. The whole set of process
 * tests passes on Multi-Paxos too (docs/testing.md says how to run it); this costs about a minute.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { test } from "node:test";
import { fileURLToPath } from "node:url";

const files = ["cluster.test.js", "lease.test.js", "http_bad_input.test.js"].map((name) =>
  fileURLToPath(new URL(name, import.meta.url)),
);

test(
  "cluster, lease and bad-input process tests pass with every member on Multi-Paxos",
  { timeout: 300_000 },
  async (t) => {
    // Not a child of this runner: NODE_TEST_CONTEXT would make the inner runner report to this one.
    const env: NodeJS.ProcessEnv = { ...process.env, RAFTKV_ENGINE: "multi-paxos" };
    delete env.NODE_TEST_CONTEXT;
    const child = spawn(process.execPath, ["--test", "--test-reporter=spec", ...files], {
      env,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => child.on("exit", resolve));
    for (const line of output.split("\n").filter((l) => /^\s*[✔✖ℹ]/.test(l))) t.diagnostic(line);
    assert.equal(code, 0, output);
  },
);
