/**
 * `raftkv txn` against real `raftkv serve` processes: which branch ran, each op's result, keys and
 * values with spaces, --json, and exit 0 / 1 for the --then / --else branch.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { ProcessCluster, runCli, type Exit } from "./harness.js";

describe("raftkv txn on a 3-member cluster", { timeout: 180_000 }, () => {
  let cluster: ProcessCluster;
  let endpoints: string[];

  before(async () => {
    cluster = await ProcessCluster.start(3);
    endpoints = ["--endpoints", cluster.members.map((m) => m.clientAddr).join(","), "--timeout", "30s"];
    await cluster.leader(30_000);
  });
  after(() => cluster.stop());

  const raftkv = (...args: string[]): Promise<Exit> => runCli([...args, ...endpoints], { timeoutMs: 60_000 });

  it("a lock: the first txn takes it (exit 0), the second sees the holder (exit 1)", async () => {
    const take = ["txn", "--if", "mod(lock) = 0", "--then", "put lock me", "--else", "get lock"];
    const first = await raftkv(...take);
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stdout, /^then: every --if held \(revision \d+\)\nput lock: OK\n$/);
    assert.equal(first.stderr, "");
    const second = await raftkv(...take);
    assert.equal(second.code, 1, second.stderr);
    assert.match(second.stdout, /^else: an --if did not hold \(revision \d+\)\nget lock: me\n$/);
    assert.equal(second.stderr, "");
  });

  it("several ops in order, keys and values with spaces, a get seeing the branch's own write", async () => {
    assert.equal((await raftkv("put", "old color", "grey")).code, 0);
    assert.equal((await raftkv("put", "color", "red")).code, 0);
    const result = await raftkv(
      "txn",
      "--if",
      "value(color) = red",
      "--if",
      'value("old color") = grey',
      "--then",
      'put "my key" "hello world"',
      "--then",
      'get "my key"',
      "--then",
      'del "old color"',
      "--then",
      "del never-written",
      "--then",
      "get never-written",
      "--else",
      "get color",
    );
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /^then: every --if held \(revision \d+\)\n/);
    assert.equal(
      result.stdout.split("\n").slice(1).join("\n"),
      'put "my key": OK\nget "my key": hello world\ndel "old color": deleted\n' +
        "del never-written: not found (nothing deleted)\nget never-written: not found\n",
    );
    assert.equal((await raftkv("get", "my key")).stdout, "hello world\n");
    assert.equal((await raftkv("get", "old color")).code, 1, "deleted in the same step");
  });

  it("a compare that fails runs the --else ops and changes nothing else; --json is the HTTP answer", async () => {
    const before = JSON.parse((await raftkv("get", "color", "--json")).stdout) as { modRevision: number };
    const result = await raftkv(
      "txn",
      "--json",
      "--if",
      "value(color) = blue",
      "--if",
      `mod(color) = ${before.modRevision}`,
      "--then",
      "put color green",
      "--else",
      "get color",
      "--else",
      "put attempts 1",
    );
    assert.equal(result.code, 1, result.stderr);
    assert.equal(result.stderr, "");
    const answer = JSON.parse(result.stdout) as { succeeded: boolean; revision: number; responses: unknown[] };
    assert.equal(answer.succeeded, false);
    assert.deepEqual(answer.responses, [
      {
        get: {
          kv: {
            key: "color",
            value: "red",
            createRevision: before.modRevision,
            modRevision: before.modRevision,
            version: 1,
          },
        },
      },
      { put: { revision: answer.revision } },
    ]);
    assert.equal((await raftkv("get", "color")).stdout, "red\n");
    assert.equal((await raftkv("get", "attempts")).stdout, "1\n");
  });

  it("a compare on the modRevision holds at the key's last write", async () => {
    const kv = JSON.parse((await raftkv("get", "color", "--json")).stdout) as { modRevision: number };
    const result = await raftkv("txn", "--if", `mod(color) = ${kv.modRevision}`, "--then", "put color green");
    assert.equal(result.code, 0, result.stderr);
    assert.equal((await raftkv("get", "color")).stdout, "green\n");
  });
});
