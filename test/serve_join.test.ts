/**
 * `raftkv serve --join` with an --initial-cluster that names only the running members, or none: the
 * new member takes its own address from --listen-peer, or from --advertise-peer when it listens on
 * 0.0.0.0, and joins once `raftkv member add` names it at that address.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import {
  CliProcess,
  freePort,
  getJson,
  membersOf,
  ProcessCluster,
  runCli,
  tempDir,
  until,
  type MemberJson,
} from "./harness.js";
import { fixedEnsemble } from "./engine_under_test.js";

const changeTimeoutMs = 60_000;

describe("raftkv serve --join, not named in --initial-cluster", { timeout: 240_000, skip: fixedEnsemble }, () => {
  let cluster: ProcessCluster;
  let dir: Awaited<ReturnType<typeof tempDir>>;
  const spares: CliProcess[] = [];
  let endpoints: string[];

  before(async () => {
    cluster = await ProcessCluster.start(3);
    dir = await tempDir("raftkv-join-");
    endpoints = ["--endpoints", cluster.members.map((m) => m.clientAddr).join(","), "--timeout", "30s"];
    await cluster.leader(30_000);
    const put = await runCli(["put", "before-join", "yes", ...endpoints], { timeoutMs: 60_000 });
    assert.equal(put.code, 0, put.stderr);
  });

  after(async () => {
    await Promise.all(spares.map((p) => p.stop("SIGKILL")));
    await cluster.stop();
    await dir.remove();
  });

  /**
   * Starts `raftkv serve --join` with `flags`, told only of the three running members unless
   * `listRunning` is false, and adds it as a voter.
   */
  async function join(name: string, peerFlags: string[], peerAddr: string, listRunning = true): Promise<string> {
    const clientAddr = `127.0.0.1:${await freePort()}`;
    const running = cluster.members.map((m) => `${m.name}=${m.peerAddr}`).join(",");
    const spare = new CliProcess([
      "serve",
      "--id",
      name,
      "--data",
      `${dir.path}/${name}`,
      "--listen-client",
      clientAddr,
      ...(listRunning ? ["--initial-cluster", running] : []),
      "--join",
      ...peerFlags,
    ]);
    spares.push(spare);
    await until("the spare to listen", async () => {
      if (!spare.running) throw new Error(`${name} exited: ${spare.stdout}${spare.stderr}`);
      return (await getJson(clientAddr, "/healthz")).status === 200 ? true : undefined;
    });
    const added = await runCli(["member", "add", name, peerAddr, ...endpoints, "--json"], { timeoutMs: 90_000 });
    assert.equal(added.code, 0, `member add: ${added.stdout}${added.stderr}\n${name}: ${spare.stdout}`);
    return clientAddr;
  }

  /** The member serves a key written before it joined, from its own copy of the state. */
  async function caughtUp(clientAddr: string): Promise<void> {
    await until(
      "the new member to hold what was written before it joined",
      async () => {
        const got = await runCli(
          ["get", "before-join", "--consistency", "serializable", "--endpoints", clientAddr, "--timeout", "2s"],
          { timeoutMs: 10_000 },
        );
        return got.code === 0 && got.stdout === "yes\n" ? true : undefined;
      },
      changeTimeoutMs,
    );
  }

  function listed(members: readonly MemberJson[], name: string): MemberJson | undefined {
    return members.find((m) => m.id === name);
  }

  it("takes its address from --listen-peer", async () => {
    const peerAddr = `127.0.0.1:${await freePort()}`;
    const clientAddr = await join("n4", ["--listen-peer", peerAddr], peerAddr);
    await caughtUp(clientAddr);
    const members = await membersOf(cluster.members[0]!);
    assert.deepEqual(listed(members, "n4"), { id: "n4", peerAddr, learner: false });
  });

  it("takes its address from --advertise-peer when it listens on 0.0.0.0", async () => {
    const port = await freePort();
    const advertised = `127.0.0.1:${port}`;
    const clientAddr = await join(
      "n5",
      ["--listen-peer", `0.0.0.0:${port}`, "--advertise-peer", advertised],
      advertised,
    );
    await caughtUp(clientAddr);
    const members = await membersOf(cluster.members[0]!);
    assert.deepEqual(listed(members, "n5"), { id: "n5", peerAddr: advertised, learner: false });
  });

  it("needs no --initial-cluster at all", async () => {
    const peerAddr = `127.0.0.1:${await freePort()}`;
    const clientAddr = await join("n6", ["--listen-peer", peerAddr], peerAddr, false);
    await caughtUp(clientAddr);
    const members = await membersOf(cluster.members[0]!);
    assert.deepEqual(listed(members, "n6"), { id: "n6", peerAddr, learner: false });
  });
});
