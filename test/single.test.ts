/**
 * `raftkv serve` with no flags: a single-node cluster on the documented defaults (data in
 * ./raftkv-data/n1, peers on 127.0.0.1:7001, clients on 127.0.0.1:8001), and its one-line
 * refusals: a port in use, an unusable data dir, a bad flag.
 */
import assert from "node:assert/strict";
import { stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import {
  assertPortFree,
  CliProcess,
  freePort,
  getJson,
  request,
  runCli,
  tempDir,
  until,
  type Exit,
} from "./harness.js";

const defaultClient = "127.0.0.1:8001";

/** Exactly one non-empty line on stderr. */
function assertOneLine(exit: Exit, what: string): string {
  const text = exit.stderr;
  assert.match(text, /^[^\n]+\n?$/, `${what}: expected one line on stderr, got ${JSON.stringify(text)}`);
  return text.trim();
}

/** Waits until the default node serves, failing at once if the process exits. */
async function ready(server: CliProcess): Promise<void> {
  await until(
    "`raftkv serve` to be ready on 127.0.0.1:8001",
    async () => {
      if (!server.running)
        throw new Error(`raftkv serve exited early: ${JSON.stringify(server.stdout + server.stderr)}`);
      const r = await getJson(defaultClient, "/readyz");
      return r.status === 200 ? true : undefined;
    },
    30_000,
  );
}

describe("raftkv serve with no flags", () => {
  let cwd: Awaited<ReturnType<typeof tempDir>>;
  let other: Awaited<ReturnType<typeof tempDir>>;
  const running = new Set<CliProcess>();

  const serve = (args: readonly string[], dir: string): CliProcess => {
    const p = new CliProcess(["serve", ...args], { cwd: dir });
    running.add(p);
    void p.exited.then(() => running.delete(p));
    return p;
  };

  before(async () => {
    cwd = await tempDir("raftkv-single-");
    other = await tempDir("raftkv-single-other-");
  });

  after(async () => {
    await Promise.all([...running].map((p) => p.stop("SIGKILL").catch(() => undefined)));
    await cwd?.remove();
    await other?.remove();
  });

  it("serves a single-node cluster on the defaults, refuses a second one on the same ports, and keeps its data across a restart", async () => {
    await assertPortFree(7001);
    await assertPortFree(8001);
    const first = serve([], cwd.path);
    await ready(first);
    assert.ok(
      (await stat(join(cwd.path, "raftkv-data", "n1"))).isDirectory(),
      "the default data dir is ./raftkv-data/n1",
    );

    const put = await request(defaultClient, "PUT", "/v1/kv/greeting", "hello, world");
    assert.equal(put.status, 200, put.text);
    const get = await getJson(defaultClient, "/v1/kv/greeting");
    assert.equal(get.status, 200);
    assert.equal(get.body.value, "hello, world");
    const status = await getJson(defaultClient, "/v1/status");
    assert.equal(status.body.id, "n1");
    assert.equal(status.body.role, "leader");
    assert.equal(status.body.leader, "n1");

    // A second `serve` on the same ports: from another directory, then from the same one (the
    // usual mistake: the same command twice). Both refuse with one line and leave the first alone.
    for (const dir of [other.path, cwd.path]) {
      const second = await serve([], dir).exit(30_000);
      assert.notEqual(second.code, 0, `a second serve (cwd ${dir}) must fail`);
      assert.equal(second.signal, null);
      assert.match(assertOneLine(second, "a second serve"), /in use/i);
    }
    assert.ok(first.running, "the first node still runs");
    const still = await getJson(defaultClient, "/v1/kv/greeting");
    assert.equal(still.status, 200);
    assert.equal(still.body.value, "hello, world");
    const put2 = await request(defaultClient, "PUT", "/v1/kv/second", "written after the refused start");
    assert.equal(put2.status, 200, put2.text);

    const stopped = await first.stop("SIGTERM");
    assert.equal(stopped.code, 0, `clean stop: ${stopped.stderr}`);

    const restarted = serve([], cwd.path);
    await ready(restarted);
    for (const [key, value] of [
      ["greeting", "hello, world"],
      ["second", "written after the refused start"],
    ]) {
      const r = await getJson(defaultClient, `/v1/kv/${key}`);
      assert.equal(r.status, 200, `${key} after the restart`);
      assert.equal(r.body.value, value);
    }
    const exit = await restarted.stop("SIGTERM");
    assert.equal(exit.code, 0, exit.stderr);
  });

  it("refuses --data pointing at a file, with one line", async () => {
    const file = join(other.path, "not-a-dir");
    await writeFile(file, "just a file\n");
    const exit = await serve(
      [
        "--data",
        file,
        "--listen-peer",
        `127.0.0.1:${await freePort()}`,
        "--listen-client",
        `127.0.0.1:${await freePort()}`,
      ],
      other.path,
    ).exit(30_000);
    assert.notEqual(exit.code, 0);
    assert.equal(exit.signal, null);
    assert.match(assertOneLine(exit, "--data FILE"), /not-a-dir/, "the line names the data dir");
  });

  it("refuses --data pointing at another member's data dir, with one line", async () => {
    // cwd's ./raftkv-data/n1 belongs to member n1 (made by the first test, or here).
    const dataDir = join(cwd.path, "raftkv-data", "n1");
    const ports = async (): Promise<string[]> => [
      "--listen-peer",
      `127.0.0.1:${await freePort()}`,
      "--listen-client",
      `127.0.0.1:${await freePort()}`,
    ];
    const exists = await stat(dataDir).then(
      () => true,
      () => false,
    );
    if (!exists) {
      const n1 = serve(["--data", dataDir, ...(await ports())], other.path);
      await until("n1's data dir", () => stat(join(dataDir)).then(() => true), 30_000);
      await until("n1 to start", () => (n1.stdout.includes("clients on") ? true : undefined), 30_000);
      assert.equal((await n1.stop("SIGTERM")).code, 0);
    }
    const exit = await serve(["--id", "n2", "--data", dataDir, ...(await ports())], other.path).exit(30_000);
    assert.notEqual(exit.code, 0);
    assert.equal(exit.signal, null);
    assert.match(assertOneLine(exit, "--data of another member"), /n1/, "the line names the member the dir belongs to");
  });

  it("a bad flag exits 2 with one line", async () => {
    const cases = [
      ["--no-such-flag"],
      ["--heartbeat-ms", "soon"],
      ["--election-timeout-ms", "0"],
      ["--initial-cluster", "n1"],
      ["stray-positional"],
    ];
    const exits = await Promise.all(
      cases.map((args) => runCli(["serve", ...args], { cwd: other.path, timeoutMs: 30_000 })),
    );
    cases.forEach((args, i) => {
      const exit = exits[i]!;
      assert.equal(exit.code, 2, `serve ${args.join(" ")}: ${JSON.stringify(exit.stderr)}`);
      assertOneLine(exit, `serve ${args.join(" ")}`);
    });
  });
});
