import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { deadEndpoint, startFakeServer, type FakeServer } from "../client/fake_server.test.helper.js";
import { exitCodes, type CliIo } from "./context.js";
import { progressReporter } from "./progress.js";
import { runCli } from "./program.js";

interface Run {
  code: number;
  out: string;
  err: string;
}

function captured(isTTY = false): { io: CliIo; out: () => string; err: () => string } {
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  const sink = (into: Buffer[], tty: boolean) => ({
    write: (chunk: string | Uint8Array) => into.push(Buffer.from(chunk)),
    isTTY: tty,
  });
  return {
    io: { stdout: sink(out, false), stderr: sink(err, isTTY) },
    out: () => Buffer.concat(out).toString(),
    err: () => Buffer.concat(err).toString(),
  };
}

async function run(...argv: string[]): Promise<Run> {
  const c = captured();
  const code = await runCli(argv, c.io);
  return { code, out: c.out(), err: c.err() };
}

/** Runs with some environment variables set, restoring them afterwards. */
async function withEnv<T>(vars: Record<string, string>, body: () => Promise<T>): Promise<T> {
  const saved = Object.keys(vars).map((k) => [k, process.env[k]] as const);
  Object.assign(process.env, vars);
  try {
    return await body();
  } finally {
    for (const [k, v] of saved) {
      // process.env turns an assigned undefined into the string "undefined": the name must go.
      if (v === undefined) Reflect.deleteProperty(process.env, k);
      else process.env[k] = v;
    }
  }
}

/** A usage error: status 2 and exactly one line on stderr matching `pattern`. */
function assertUsageError(result: Run, pattern: RegExp): void {
  assert.equal(result.code, exitCodes.usage, result.err);
  assert.match(result.err, pattern);
  assert.equal(result.err.trimEnd().split("\n").length, 1, `one line: ${JSON.stringify(result.err)}`);
  assert.equal(result.out, "");
}

describe("raftkv against a fake node", () => {
  let server: FakeServer;
  let ep: string[];
  before(async () => {
    server = await startFakeServer();
    ep = ["--endpoints", server.label];
  });
  after(() => server.close());

  test("put, get, del: human output, --json, and exit 1 with 'not found'", async () => {
    assert.deepEqual(await run("put", "k", "v1", ...ep), { code: 0, out: "OK (revision 1)\n", err: "" });
    assert.deepEqual(await run("get", "k", ...ep), { code: 0, out: "v1\n", err: "" });
    const json = await run("get", "k", "--json", ...ep, "--consistency", "serializable");
    assert.deepEqual(JSON.parse(json.out), { key: "k", value: "v1", createRevision: 1, modRevision: 1, version: 1 });
    assert.match(server.requests.at(-1)?.url ?? "", /consistency=serializable/);
    assert.deepEqual(await run("get", "missing", ...ep), { code: 1, out: "", err: "error: not found: missing\n" });
    assert.deepEqual(await run("del", "k", ...ep), { code: 0, out: "deleted (revision 2)\n", err: "" });
    assert.deepEqual(JSON.parse((await run("delete", "k", "--json", ...ep)).out), { revision: 2, deleted: 0 });
  });

  test("cas: success, and exit 1 naming the current value when the compare fails", async () => {
    await run("put", "c", "old", ...ep);
    assert.match((await run("cas", "c", "old", "new", ...ep)).out, /^OK \(revision \d+\)\n$/);
    assert.deepEqual(await run("cas", "c", "old", "newer", ...ep), {
      code: 1,
      out: "",
      err: 'error: compare failed: c holds "new"\n',
    });
    const json = await run("cas", "c", "old", "newer", "--json", ...ep);
    assert.equal(json.code, 1);
    assert.equal((JSON.parse(json.out) as { current: { value: string } }).current.value, "new");
  });

  test("range by prefix, from/to and limit; --prefix with --from is a usage error", async () => {
    for (const k of ["r/1", "r/2", "r/3"]) await run("put", k, k.toUpperCase(), ...ep);
    assert.equal((await run("range", "--prefix", "r/", ...ep)).out, "r/1\tR/1\nr/2\tR/2\nr/3\tR/3\n");
    const limited = await run("range", "--from", "r/2", "--to", "r/9", "--limit", "1", ...ep);
    assert.equal(limited.out, "r/2\tR/2\n");
    assert.match(limited.err, /more keys/);
    const json = JSON.parse((await run("range", "--prefix", "r/", "--json", ...ep)).out) as {
      kvs: unknown[];
      more: boolean;
    };
    assert.deepEqual([json.kvs.length, json.more], [3, false]);
    assertUsageError(
      await run("range", "--prefix", "r/", "--from", "a", ...ep),
      /--prefix cannot be combined with --from\/--to/,
    );
  });

  test("status per endpoint (a dead one is a row, not a failure), members and membership changes", async () => {
    const dead = await deadEndpoint();
    const status = await run("status", "--endpoints", `${server.label},${dead}`);
    assert.equal(status.code, 0);
    assert.match(status.out, /^ENDPOINT +ID +ROLE +TERM +LEADER/);
    assert.match(status.out, /n1 +leader +3 +n1/);
    assert.match(status.out, new RegExp(`${dead} +- +unreachable \\(unavailable\\)`));
    const rows = JSON.parse((await run("status", "--json", "--endpoints", `${server.label},${dead}`)).out) as {
      endpoint: string;
    }[];
    assert.deepEqual(
      rows.map((r) => r.endpoint),
      [server.label, dead],
    );
    assert.equal((await run("status", "--endpoints", dead)).code, 1, "no node answered");
    assert.match((await run("members", ...ep)).out, /n1 +127\.0\.0\.1:7001 +voter/);
    assert.match(
      (await run("member", "add", "n5", "127.0.0.1:7005", "--learner", ...ep)).out,
      /n5 +127\.0\.0\.1:7005 +learner/,
    );
    assert.match((await run("member", "promote", "n5", ...ep)).out, /n5 +127\.0\.0\.1:7005 +voter/);
    assert.deepEqual(
      (JSON.parse((await run("member", "remove", "n5", "--json", ...ep)).out) as { members: unknown[] }).members.length,
      1,
    );
    assert.deepEqual(await run("member", "remove", "n5", ...ep), {
      code: 1,
      out: "",
      err: "error: no such member (unknown_member)\n",
    });
    assert.deepEqual(await run("transfer-leader", "n1", ...ep), { code: 0, out: "leader is now n1\n", err: "" });
  });

  test("environment variables stand in for flags; flags win; boolean variables mean what they say", async () => {
    await withEnv({ RAFTKV_ENDPOINTS: server.label }, async () => {
      assert.equal((await run("put", "e", "1")).code, 0);
      assert.equal((await run("get", "e")).out, "1\n");
      assert.equal(
        (await run("get", "e", "--endpoints", await deadEndpoint(), "--timeout", "200ms")).code,
        1,
        "the flag wins",
      );
    });
    await withEnv({ RAFTKV_ENDPOINTS: server.label, RAFTKV_JSON: "0" }, async () =>
      assert.equal((await run("get", "e")).out, "1\n"),
    );
    await withEnv({ RAFTKV_ENDPOINTS: server.label, RAFTKV_JSON: "true" }, async () =>
      assert.equal((JSON.parse((await run("get", "e")).out) as { value: string }).value, "1"),
    );
    await withEnv({ RAFTKV_JSON: "maybe" }, async () =>
      assertUsageError(await run("get", "e", ...ep), /RAFTKV_JSON="maybe" is not a boolean/),
    );
    await withEnv({ RAFTKV_DURATION: "abc" }, async () =>
      assertUsageError(
        await run("bench", ...ep),
        /option '--duration <duration>' value 'abc' from env 'RAFTKV_DURATION' is invalid\. "abc" is not a duration/,
      ),
    );
  });

  test("an unreachable cluster fails with 1; an unknown write outcome with 3", async () => {
    const dead = await run("put", "k", "v", "--endpoints", await deadEndpoint(), "--timeout", "300ms");
    assert.equal(dead.code, exitCodes.failed);
    assert.match(dead.err, /^error: no node could serve the request within 300 ms .*ECONNREFUSED.*\(unavailable\)\n$/);
    server.faults.push(...Array<"504">(50).fill("504"));
    const unknown = await run("put", "k", "v", ...ep, "--timeout", "300ms");
    server.faults.length = 0;
    assert.equal(unknown.code, exitCodes.unknownOutcome);
    assert.match(unknown.err, /may or may not have been applied.*\(unknown_outcome\)/);
  });

  test("bench runs the mix and reports a table, or JSON", async () => {
    const json = await run(
      "bench",
      ...ep,
      "--duration",
      "400ms",
      "--clients",
      "3",
      "--mix",
      "put=1,get=1,cas=1",
      "--keys",
      "10",
      "--value-size",
      "16",
      "--json",
    );
    assert.equal(json.code, 0, json.err);
    const result = JSON.parse(json.out) as {
      ops: number;
      errors: number;
      throughput: number;
      byOp: Record<string, unknown>;
      latencyMs: Record<string, number>;
    };
    assert.ok(result.ops > 0 && result.errors === 0 && result.throughput > 0);
    assert.deepEqual(Object.keys(result.byOp), ["put", "get", "cas"]);
    for (const name of ["p50", "p90", "p99", "p99.9", "max"]) assert.ok((result.latencyMs[name] ?? 0) > 0, name);
    const { p50 = 0, p99 = 0, max = 0 } = result.latencyMs;
    assert.ok(p50 <= p99 && p99 <= max);
    const table = await run("bench", ...ep, "--duration", "200ms", "--clients", "2");
    assert.equal(table.code, 0, table.err);
    assert.match(
      table.out,
      /^raftkv bench: 2 clients, .* mix put=1,get=0,cas=0, linearizable reads\n\nOP +OPS +OPS\/S +ERRORS +P50_MS +P90_MS +P99_MS +P99\.9_MS +MAX_MS\nput +\d+/,
    );
  });
});

describe("bad usage: one stderr line and exit status 2", () => {
  const cases: [string[], RegExp][] = [
    [["put", "k"], /error: missing required argument 'value'/],
    [["put", "a", "b", "c"], /error: too many arguments for 'put'/],
    [["pt", "a", "b"], /error: unknown command 'pt' \(Did you mean put\?\)/],
    [["get", "k", "--bogus"], /error: unknown option '--bogus'/],
    [["get", "k", "--endpoints", "nohost"], /bad endpoint "nohost": expected host:port/],
    [["get", "k", "--consistency", "strong"], /expected one of linearizable, lease, serializable/],
    [["get", "k", "--timeout", "5"], /"5" has no unit/],
    [["range", "--limit", "0"], /expected an integer from 1 to 10000/],
    [["bench", "--duration", "30"], /"30" has no unit: write e\.g\. 30s or 30ms/],
    [["bench", "--duration", "soon"], /"soon" is not a duration/],
    [["bench", "--mix", "put=1,scan=2"], /unknown op "scan"/],
    [["bench", "--mix", "put=0"], /every weight is 0/],
    [["bench", "--clients", "0"], /expected an integer from 1 to 10000/],
    [["bench", "--value-size", "99999999"], /expected an integer from 0 to 1572864/],
    [["bench", "--keys", "ten"], /expected an integer/],
    [["member", "add", "n4"], /missing required argument 'peer-addr'/],
    [["put", "k", "v", "--lease", "0"], /expected an integer from 1 to 9007199254740991/],
    [["watch"], /missing required argument 'key'/],
    [["watch", "k", "--rev", "-1"], /expected an integer from 1 to/],
    [["lease", "grant", "1.5"], /expected an integer from 1 to 9000000000/],
    [["lease", "revoke", "abc"], /value 'abc' is invalid for argument 'id'/],
    [["lease", "renew", "1"], /unknown command 'renew'/],
    [["lock", "jobs"], /missing required argument 'command'/],
    [["lock", "jobs", "--ttl", "0", "--", "true"], /expected an integer from 1 to 9000000000/],
    [["elect", "leader"], /missing required argument 'value'/],
  ];
  for (const [argv, pattern] of cases) {
    test(argv.join(" "), async () => assertUsageError(await run(...argv), pattern));
  }

  test("no command prints help on stderr and exits 2; --help exits 0", async () => {
    const bare = await run();
    assert.equal(bare.code, exitCodes.usage);
    assert.match(bare.err, /Usage: raftkv/);
    const help = await run("bench", "--help");
    assert.equal(help.code, 0);
    assert.match(help.out, /--duration <duration>[^-]*default: 30s,\s+env: RAFTKV_DURATION/);
  });

  test("serve and dev refuse bad flags with one line and exit 2, and print their usage on --help", async () => {
    const unknown = await run("serve", "--bogus");
    assert.equal(unknown.code, 2);
    assert.match(unknown.err, /^error: raftkv serve: Unknown option '--bogus'.*\n$/);
    assert.deepEqual(await run("serve", "--election-timeout-ms", "fast"), {
      code: 2,
      out: "",
      err: 'error: raftkv serve: --election-timeout-ms must be a positive integer, got "fast"\n',
    });
    assert.deepEqual(await run("serve", "--initial-cluster", "n1"), {
      code: 2,
      out: "",
      err: 'error: raftkv serve: --initial-cluster entries are NAME=HOST:PORT, got "n1"\n',
    });
    assert.deepEqual(await run("dev", "--nodes", "0"), {
      code: 2,
      out: "",
      err: "error: raftkv dev: --nodes must be between 1 and 9\n",
    });
    assert.match((await run("serve", "--help")).out, /^usage: raftkv serve/);
  });
});

test("progress: a bar redrawn in place on a terminal, plain lines otherwise", () => {
  const tty = captured(true);
  const bar = progressReporter(tty.io.stderr, 10_000);
  assert.equal(bar.tickMs, 250);
  bar.onTick({ elapsedMs: 5000, ops: 1000, errors: 2 });
  bar.done();
  assert.equal(
    tty.err(),
    `\r[${"#".repeat(15)}${".".repeat(15)}]  50%  5.0s/10.0s  1000 ops  200 ops/s  2 errors\x1b[K\r\x1b[K`,
  );
  const log = captured(false);
  const lines = progressReporter(log.io.stderr, 10_000);
  assert.equal(lines.tickMs, 5000);
  lines.onTick({ elapsedMs: 5000, ops: 1000, errors: 0 });
  lines.onTick({ elapsedMs: 10_000, ops: 3000, errors: 0 });
  lines.done();
  assert.equal(
    log.err(),
    "bench: 5.0s/10.0s  1000 ops  200 ops/s  0 errors\nbench: 10.0s/10.0s  3000 ops  400 ops/s  0 errors\n",
  );
});
