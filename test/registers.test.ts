import assert from "node:assert/strict";
import { readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { until } from "./harness.js";
import { RegisterCluster } from "./registers_cluster.js";

/*
 * The Basic Paxos register service on three real processes: write-once, compare-and-set conflicts,
 * linearizable reads after a member's SIGKILL and restart, bad input, and a damaged journal.
 */

let c: RegisterCluster;
before(async () => {
  c = await RegisterCluster.start(3);
});
after(() => c.stopAll());

test("registers: a write-once register takes the first write only, and every member reads it", async () => {
  assert.deepEqual(await c.cas("n1", "once", 0, "first"), { status: 200, body: { register: "once", version: 1 } });
  const second = await c.cas("n2", "once", 0, "second");
  assert.equal(second.status, 409);
  assert.equal(second.body.error, "conflict");
  assert.deepEqual([second.body.version, second.body.value], [1, "first"]);
  for (const name of c.names) {
    assert.deepEqual((await c.read(name, "once")).body, { register: "once", version: 1, value: "first" });
  }
  assert.deepEqual((await c.read("n3", "never-written")).body, { register: "never-written", version: 0, value: null });
});

test("registers: of concurrent compare-and-sets from one version exactly one writes, the other learns its value", async () => {
  assert.equal((await c.cas("n1", "cas", 0, "v1")).status, 200);
  const answers = await Promise.all(c.names.map((name) => c.cas(name, "cas", 1, `from-${name}`)));
  const written = answers.filter((a) => a.status === 200);
  assert.equal(written.length, 1, JSON.stringify(answers));
  const winner = c.names[answers.indexOf(written[0]!)]!;
  for (const loser of answers.filter((a) => a.status !== 200)) {
    assert.equal(loser.status, 409);
    assert.deepEqual([loser.body.version, loser.body.value], [2, `from-${winner}`]);
  }
  const stale = await c.cas("n2", "cas", 0, "late");
  assert.deepEqual([stale.status, stale.body.version, stale.body.value], [409, 1, "v1"]);
  const ahead = await c.cas("n3", "cas", 9, "ahead");
  assert.deepEqual([ahead.status, ahead.body.version, ahead.body.value], [409, 2, `from-${winner}`]);
});

test("registers: after a SIGKILL the other two serve reads and writes, and the restarted member reads the latest", async () => {
  assert.equal((await c.cas("n1", "k", 0, "before")).status, 200);
  await c.kill("n1");
  assert.deepEqual((await c.read("n2", "k")).body.value, "before");
  assert.equal((await c.cas("n3", "k", 1, "while-down")).status, 200);
  await c.startMember("n1");
  assert.match(c.process("n1")!.stdout, /"msg":"journal recovered","round":[1-9]\d*,"records":[1-9]/);
  assert.deepEqual((await c.read("n1", "k")).body, { register: "k", version: 2, value: "while-down" });
  // Killed right after answering: its promises and acceptances were durable before the answer left.
  assert.equal((await c.cas("n1", "k", 2, "last")).status, 200);
  await c.kill("n1");
  await c.startMember("n1");
  assert.deepEqual((await c.read("n1", "k")).body, { register: "k", version: 3, value: "last" });
});

test("registers: without a quorum a write times out (504) and a later read tells whether it took effect", async () => {
  await c.kill("n2");
  await c.kill("n3");
  const lonely = await c.cas("n1", "quorum", 0, "alone");
  assert.deepEqual([lonely.status, lonely.body.error], [504, "timeout"]);
  await c.startMember("n2");
  await c.startMember("n3");
  // The write waits in n1's core and may still be chosen once a quorum is back; either way, reads agree.
  const settled = await until("a read to answer", async () => {
    const answer = await c.read("n2", "quorum");
    return answer.status === 200 ? answer.body : undefined;
  });
  const tookEffect = (b: { version?: number; value?: string | null }): boolean =>
    b.version === 0 || (b.version === 1 && b.value === "alone");
  assert.ok(tookEffect(settled), JSON.stringify(settled));
  for (const name of c.names) {
    const later = (await c.read(name, "quorum")).body;
    assert.ok(tookEffect(later) && later.version! >= settled.version!, `${name}: ${JSON.stringify(later)}`);
  }
});

test("registers: bad input gets a clear 4xx and changes nothing", async () => {
  const cases: [string, RequestInit | undefined, number, string][] = [
    ["/v1/registers/", undefined, 400, "the register name is empty"],
    ["/v1/registers/a%zz", undefined, 400, "malformed %-escape"],
    [`/v1/registers/${"x".repeat(1025)}`, undefined, 400, "exceeds 1024 bytes"],
    ["/v1/registers/bad?expected=-1", { method: "PUT", body: "v" }, 400, "expected must be a version"],
    ["/v1/registers/bad?expected=1.5", { method: "PUT", body: "v" }, 400, "expected must be a version"],
    ["/v1/registers/bad?encoding=hex", undefined, 400, "encoding must be text or base64"],
    ["/v1/registers/bad?nonsense=1", undefined, 400, "unknown parameter"],
    ["/v1/registers/bad", { method: "DELETE" }, 405, "not allowed"],
    ["/v1/registers/bad", { method: "PUT", body: new Uint8Array(1536 * 1024 + 1) }, 413, "exceeds"],
    ["/v1/elsewhere", undefined, 404, "no route"],
  ];
  for (const [path, init, status, message] of cases) {
    const response = await c.fetch("n2", path, init);
    const body = (await response.json()) as { error: string; message: string };
    assert.equal(response.status, status, `${path}: ${JSON.stringify(body)}`);
    assert.ok(body.message.includes(message), `${path}: ${body.message}`);
  }
  assert.deepEqual((await c.read("n1", "bad")).body.version, 0, "nothing was written");
  // Binary names and values round-trip through percent-encoding and base64.
  const put = await c.fetch("n3", "/v1/registers/%00%FFbin?encoding=base64", {
    method: "PUT",
    body: Uint8Array.of(0, 255),
  });
  assert.deepEqual(await put.json(), { register: "AP9iaW4=", version: 1 });
  const got = await c.fetch("n1", "/v1/registers/%00%FFbin?encoding=base64");
  assert.deepEqual(await got.json(), { register: "AP9iaW4=", version: 1, value: "AP8=" });
});

test("registers: a member whose journal was damaged refuses to start and names the file and byte", async () => {
  await c.process("n3")!.stop();
  const walDir = join(c.dataDir, "n3", "registers-wal");
  const [segment] = await readdir(walDir);
  const bytes = await readFile(join(walDir, segment!));
  bytes[12] = bytes[12]! ^ 0x40; // inside the first record, with valid records after it
  await writeFile(join(walDir, segment!), bytes);
  await assert.rejects(c.startMember("n3"), /corrupt .*registers-wal.*at byte \d+/);
  const exit = await c.process("n3")!.exited;
  assert.equal(exit.code, 1);
  assert.match(exit.stderr, /raftkv serve: corrupt /);
});
