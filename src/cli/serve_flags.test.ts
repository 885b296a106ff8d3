import assert from "node:assert/strict";
import { test } from "node:test";
import { CliFailure, exitCodes } from "./context.js";
import { parseServeFlags, resolveInitialCluster, serveUsage } from "./serve_flags.js";

const running = "n1=10.0.0.1:7001,n2=10.0.0.2:7001,n3=10.0.0.3:7001";
const runningMembers = { n1: "10.0.0.1:7001", n2: "10.0.0.2:7001", n3: "10.0.0.3:7001" };

function usageError(pattern: RegExp): (error: unknown) => boolean {
  return (error) => {
    assert.ok(error instanceof CliFailure);
    assert.equal(error.exitCode, exitCodes.usage);
    assert.match(error.message, pattern);
    return true;
  };
}

test("a joining member not named in --initial-cluster is at its --listen-peer address", () => {
  const settings = parseServeFlags(
    ["--id", "n4", "--join", "--listen-peer", "10.0.0.4:7001", "--initial-cluster", running],
    {},
  );
  assert.deepEqual(settings?.initialCluster, { ...runningMembers, n4: "10.0.0.4:7001" });
  assert.equal(settings.advertisePeer, "10.0.0.4:7001");
  assert.equal(settings.listenPeer, "10.0.0.4:7001");
});

test("--advertise-peer is where the others reach a member that listens on 0.0.0.0 or behind NAT", () => {
  const settings = parseServeFlags(
    ["--id", "n4", "--join", "--listen-peer", "0.0.0.0:7001", "--advertise-peer", "203.0.113.4:17001"],
    { RAFTKV_INITIAL_CLUSTER: running },
  );
  assert.deepEqual(settings?.initialCluster, { ...runningMembers, n4: "203.0.113.4:17001" });
  assert.equal(settings.advertisePeer, "203.0.113.4:17001");
  assert.equal(settings.listenPeer, "0.0.0.0:7001");
  const fromEnv = parseServeFlags(["--id", "n4", "--join", "--initial-cluster", running], {
    RAFTKV_ADVERTISE_PEER: "10.0.0.9:7001",
  });
  assert.equal(fromEnv?.initialCluster.n4, "10.0.0.9:7001");
});

test("without --initial-cluster a member is a cluster of one at its advertised address", () => {
  assert.deepEqual(parseServeFlags([], {})?.initialCluster, { n1: "127.0.0.1:7001" });
  assert.deepEqual(
    resolveInitialCluster({
      id: "n2",
      listenPeer: "0.0.0.0:7002",
      advertisePeer: "10.0.0.2:7002",
      cluster: undefined,
      join: false,
    }),
    { n2: "10.0.0.2:7002" },
  );
});

test("a member listed in --initial-cluster is where the list says", () => {
  const flags = { id: "n2", listenPeer: "0.0.0.0:7001", advertisePeer: undefined, cluster: running };
  assert.deepEqual(resolveInitialCluster({ ...flags, join: false }), runningMembers);
  assert.deepEqual(resolveInitialCluster({ ...flags, join: true }), runningMembers);
  assert.deepEqual(resolveInitialCluster({ ...flags, advertisePeer: "10.0.0.2:7001", join: false }), runningMembers);
});

test("refusals: a new cluster that leaves this member out, two addresses for it, an undialable one", () => {
  assert.throws(
    () => parseServeFlags(["--id", "n4", "--initial-cluster", running], {}),
    usageError(/--initial-cluster does not name this member \(n4\): add n4=HOST:PORT, or pass --join/),
  );
  assert.throws(
    () => parseServeFlags(["--id", "n2", "--advertise-peer", "10.9.9.9:7001", "--initial-cluster", running], {}),
    usageError(/--advertise-peer 10\.9\.9\.9:7001 differs from n2=10\.0\.0\.2:7001 in --initial-cluster/),
  );
  for (const wildcard of ["0.0.0.0:7004", "[::]:7004"])
    assert.throws(
      () => parseServeFlags(["--id", "n4", "--join", "--listen-peer", wildcard, "--initial-cluster", running], {}),
      usageError(/is no address other members can dial: pass --advertise-peer HOST:PORT/),
    );
});

test("serve --help documents --advertise-peer and how --join finds this member's address", () => {
  assert.equal(parseServeFlags(["--help"], {}), undefined);
  assert.match(serveUsage, /\[--advertise-peer HOST:PORT\]/);
  assert.match(serveUsage, /--advertise-peer +the address other members reach this one at \(default: --listen-peer\)/);
  assert.match(serveUsage, /--join +start empty and wait to be added/);
});

test("watch and history flags: defaults, flags, environment, and refusals of anything but a positive integer", () => {
  const defaults = parseServeFlags([], {});
  assert.deepEqual(
    [defaults?.watchProgressMs, defaults?.watchBufferEvents, defaults?.historyRevisions, defaults?.historyMb],
    [10_000, 10_000, 100_000, 64],
  );
  const given = parseServeFlags(
    ["--watch-progress-ms", "250", "--watch-buffer-events", "50", "--history-revisions", "1000"],
    { RAFTKV_HISTORY_MB: "8" },
  );
  assert.deepEqual(
    [given?.watchProgressMs, given?.watchBufferEvents, given?.historyRevisions, given?.historyMb],
    [250, 50, 1000, 8],
  );
  for (const flag of ["--watch-progress-ms", "--watch-buffer-events", "--history-revisions", "--history-mb"])
    for (const bad of ["0", "-1", "1.5", "x"])
      assert.throws(
        () => parseServeFlags([`${flag}=${bad}`], {}),
        usageError(new RegExp(`${flag} must be a positive integer`)),
      );
  assert.match(serveUsage, /--watch-buffer-events +a watcher this many events behind is cancelled as slow/);
});

test("--lease-revokes-per-second and --lease-checkpoint-ms default to the lessor's and must be positive integers", () => {
  const defaults = parseServeFlags([], {});
  assert.equal(defaults?.leaseRevokesPerSecond, 1000);
  assert.equal(defaults.leaseCheckpointMs, 300_000);
  const given = parseServeFlags(["--lease-revokes-per-second", "50"], { RAFTKV_LEASE_CHECKPOINT_MS: "60000" });
  assert.equal(given?.leaseRevokesPerSecond, 50);
  assert.equal(given.leaseCheckpointMs, 60_000);
  assert.throws(
    () => parseServeFlags(["--lease-revokes-per-second", "0"], {}),
    usageError(/--lease-revokes-per-second must be a positive integer/),
  );
  assert.throws(
    () => parseServeFlags(["--lease-checkpoint-ms", "1.5"], {}),
    usageError(/--lease-checkpoint-ms must be a positive integer/),
  );
  assert.match(serveUsage, /\[--lease-revokes-per-second 1000\] \[--lease-checkpoint-ms 300000\]/);
});
