/**
 * `raftkv dev` (what `npm start` runs) stops cleanly: Ctrl-C in a terminal signals the whole process
 * group, so dev and its members get SIGINT at once and the members then get the SIGTERM dev forwards;
 * dev and every member exit 0 all the same. A member that cannot start takes the rest down with it;
 * one killed once it serves does not, and the command dev prints for it brings it back.
 */
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { createServer, type Server } from "node:net";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { cleanEnv, cliPath, getJson, request, tempDir, until, withDeadline } from "./harness.js";

const members = 3;

interface DevExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

/** `raftkv dev` leading a process group of its own, as a shell makes a foreground job. */
class DevCluster {
  readonly child: ChildProcess;
  readonly clientAddrs: string[];
  stdout = "";
  stderr = "";
  readonly exited: Promise<DevExit>;

  constructor(dataDir: string, basePort: number) {
    this.clientAddrs = Array.from({ length: members }, (_, k) => `127.0.0.1:${basePort + 1000 + k}`);
    this.child = spawn(
      process.execPath,
      [cliPath, "dev", "--nodes", String(members), "--data", dataDir, "--base-port", String(basePort)],
      { detached: true, stdio: ["ignore", "pipe", "pipe"], env: cleanEnv() },
    );
    this.child.stdout!.on("data", (chunk: Buffer) => (this.stdout += chunk.toString()));
    this.child.stderr!.on("data", (chunk: Buffer) => (this.stderr += chunk.toString()));
    this.exited = new Promise((resolve) => this.child.once("close", (code, signal) => resolve({ code, signal })));
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** The client address of member `name` ("n2"). */
  addrOf(name: string): string {
    return this.clientAddrs[Number(name.slice(1)) - 1]!;
  }

  /** Signals the process group: dev and every member, as a terminal's Ctrl-C does. */
  signalGroup(signal: NodeJS.Signals): void {
    process.kill(-this.child.pid!, signal);
  }

  /** Leaves nothing behind, whatever the test did. */
  kill(): void {
    try {
      this.signalGroup("SIGKILL");
    } catch {
      // The group is gone already.
    }
  }

  /** Every member ready (knows a leader, has applied up to its commit); fails at once if dev exits. */
  async serving(): Promise<void> {
    const ready = until(
      "every member of raftkv dev to be ready",
      async () => {
        const answers = await Promise.all(this.clientAddrs.map((addr) => getJson(addr, "/readyz")));
        return answers.every((r) => r.status === 200) ? true : undefined;
      },
      30_000,
    );
    const exitedEarly = this.exited.then((exit) => {
      throw new Error(`raftkv dev exited early (${JSON.stringify(exit)}): ${this.stdout}${this.stderr}`);
    });
    await Promise.race([ready, exitedEarly]);
  }

  async exit(): Promise<DevExit> {
    return withDeadline(this.exited, 30_000, `raftkv dev to exit (output: ${this.stdout}${this.stderr})`);
  }
}

async function listen(port: number): Promise<Server | undefined> {
  const server = createServer();
  return new Promise((resolve) => {
    server.once("error", () => resolve(undefined));
    server.listen(port, "127.0.0.1", () => resolve(server));
  });
}

/**
 * A base port whose peer ports (base + k) and client ports (base + 1000 + k) are free just now; below
 * Linux's ephemeral range (from 32768), where every outgoing connection and listen(0) takes ports.
 */
async function freeBasePort(): Promise<number> {
  return until("free ports for raftkv dev", async () => {
    const base = 10_000 + Math.floor(Math.random() * 20_000);
    const ports = Array.from({ length: members }, (_, k) => [base + k, base + 1000 + k]).flat();
    const held = await Promise.all(ports.map(listen));
    await Promise.all(held.filter((s) => s !== undefined).map((s) => new Promise((r) => s.close(r))));
    return held.every((s) => s !== undefined) ? base : undefined;
  });
}

/** The members' pids, from dev's start-up lines ("  n1: http://…  (peer …, pid 123)"). */
function memberPids(stdout: string): Map<string, number> {
  return new Map(
    [...stdout.matchAll(/^ {2}(n\d): http:\/\/\S+ {2}\(peer \S+, pid (\d+)\)$/gm)].map((m) => [m[1]!, Number(m[2])]),
  );
}

/** The key's value as the member at `addr` reads it, or undefined while it cannot. */
async function valueAt(addr: string, key: string, consistency = "linearizable"): Promise<unknown> {
  const { status, body } = await getJson(addr, `/v1/kv/${key}?consistency=${consistency}`);
  return status === 200 ? body.value : undefined;
}

function stoppedMembers(stdout: string): string[] {
  return [...stdout.matchAll(/^\[(n\d)\] .*\bstopped$/gm)].map((m) => m[1]!).sort();
}

const started: DevCluster[] = [];
const restarted: ChildProcess[] = [];
const dirs: { remove: () => Promise<void> }[] = [];
after(async () => {
  for (const dev of started) dev.kill();
  for (const member of restarted) if (member.exitCode === null && member.signalCode === null) member.kill("SIGKILL");
  await Promise.all(dirs.map((d) => d.remove()));
});

/** `dataSubdir`: a data directory inside the temporary one, such as a name the shell must quote. */
async function startDev(dataSubdir = ""): Promise<DevCluster> {
  const dir = await tempDir("raftkv-dev-stop-");
  dirs.push(dir);
  const dev = new DevCluster(join(dir.path, dataSubdir), await freeBasePort());
  started.push(dev);
  return dev;
}

function assertCleanStop(dev: DevCluster, exit: DevExit): void {
  assert.deepEqual(exit, { code: 0, signal: null }, `stderr: ${dev.stderr}`);
  assert.equal(dev.stderr, "", "nothing on stderr");
  assert.doesNotMatch(dev.stdout, /^\[n\d\] [\d:.]* (ERROR|FATAL) /m, "no member logs an error");
  assert.deepEqual(stoppedMembers(dev.stdout), ["n1", "n2", "n3"], "every member logs its clean stop");
}

/** The others keep serving without the member; the command dev prints brings it back. */
async function killAMemberThatServes(): Promise<void> {
  // A space and a quote in the path: the printed command must quote them for the shell.
  const dev = await startDev("dev's data");
  await dev.serving();
  const pids = memberPids(dev.stdout);
  assert.deepEqual([...pids.keys()], ["n1", "n2", "n3"], `dev's start-up lines give each member's pid: ${dev.stdout}`);
  const leader = await until("n1 to name a leader", async () => {
    const { body } = await getJson(dev.addrOf("n1"), "/v1/status");
    return typeof body.leader === "string" ? body.leader : undefined;
  });
  process.kill(pids.get(leader)!, "SIGKILL");
  const notice = new RegExp(
    `^raftkv dev: ${leader} was killed by SIGKILL; the others keep running; restart it with: (.+)$`,
    "m",
  );
  const command = await until(`dev to report ${leader}'s death`, () => notice.exec(dev.stderr)?.[1], 30_000);
  const survivors = [...pids.keys()].filter((name) => name !== leader);
  await until(
    `a put and a linearizable get through ${survivors[0]} after ${leader} died`,
    async () => {
      const put = await request(dev.addrOf(survivors[0]!), "PUT", "/v1/kv/after-the-kill", "still-works");
      return put.status === 200 ? valueAt(dev.addrOf(survivors[0]!), "after-the-kill") : undefined;
    },
    60_000,
  );
  assert.ok(dev.running, `dev keeps running: ${dev.stderr}`);

  // The printed command, as the user pastes it into another shell ("exec": the signal that stops it
  // then reaches the member, not a shell): it comes back with its data and catches up.
  const member = spawn("/bin/sh", ["-c", `exec ${command}`], { detached: true, stdio: "ignore", env: cleanEnv() });
  restarted.push(member);
  const memberExited = new Promise<DevExit>((resolve) =>
    member.once("close", (code, signal) => resolve({ code, signal })),
  );
  const caughtUp = await until(
    `the restarted ${leader} to catch up`,
    () => valueAt(dev.addrOf(leader), "after-the-kill", "serializable"),
    60_000,
  );
  assert.equal(caughtUp, "still-works");

  dev.signalGroup("SIGINT");
  assert.deepEqual(await dev.exit(), { code: 0, signal: null }, `stderr: ${dev.stderr}`);
  assert.equal(dev.stderr, `${notice.exec(dev.stderr)![0]}\n`, "nothing on stderr but the notice");
  assert.doesNotMatch(dev.stdout, /^\[n\d\] [\d:.]* (ERROR|FATAL) /m, "no member logs an error");
  assert.deepEqual(stoppedMembers(dev.stdout), survivors, "every remaining member logs its clean stop");
  process.kill(-member.pid!, "SIGINT");
  const memberExit = await withDeadline(memberExited, 30_000, `the restarted ${leader} to stop`);
  assert.deepEqual(memberExit, { code: 0, signal: null });
}

describe("raftkv dev stops cleanly", { timeout: 300_000 }, () => {
  it("on Ctrl-C: SIGINT to the whole process group", async () => {
    const dev = await startDev();
    await dev.serving();
    dev.signalGroup("SIGINT");
    assertCleanStop(dev, await dev.exit());
  });

  it("on Ctrl-C pressed again while the members are stopping", async () => {
    const dev = await startDev();
    await dev.serving();
    dev.signalGroup("SIGINT");
    await until("a member to start stopping", () => (/SIGINT: stopping/.test(dev.stdout) ? true : undefined));
    try {
      dev.signalGroup("SIGINT");
    } catch {
      // Everything had stopped already: the second press came too late to matter.
    }
    assertCleanStop(dev, await dev.exit());
  });

  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    it(`on ${signal} to dev alone, which forwards it`, async () => {
      const dev = await startDev();
      await dev.serving();
      dev.child.kill(signal);
      assertCleanStop(dev, await dev.exit());
    });
  }

  // Only that the others are gone (dev waits for them): one may still be loading, before it listens
  // for signals, when it is told to stop.
  it("when a member cannot start: stops the others and exits 1 naming it", async () => {
    const dir = await tempDir("raftkv-dev-stop-");
    dirs.push(dir);
    const base = await freeBasePort();
    const blocker = await listen(base + 1000 + 1);
    assert.ok(blocker !== undefined, "n2's client port was free a moment ago");
    try {
      const dev = new DevCluster(dir.path, base);
      started.push(dev);
      const exit = await dev.exit();
      assert.deepEqual(exit, { code: 1, signal: null });
      assert.match(dev.stderr, /^error: raftkv dev: (.*, )?n2 exited with 1(, .*)?$/m);
      assert.match(dev.stderr, /^\[n2\] error: raftkv serve: .*in use/im);
    } finally {
      await new Promise((resolve) => blocker.close(resolve));
    }
  });

  it(
    "when a member is killed once it serves: the others keep serving, and the command dev prints restarts it",
    killAMemberThatServes,
  );
});
