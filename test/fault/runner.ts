/**
 * One fault run: 5 `raftkv serve` processes behind the peer proxy, client workers recording a
 * history, the seeded nemesis for `seconds`; then heal everything, wait (with deadlines) until every
 * member serves, read every key on every member, and check the history for linearizability.
 */
import { createWriteStream, rmSync, type WriteStream } from "node:fs";
import { mkdir, readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { nodeIdOf } from "raftkv";
import { RaftkvClient } from "raftkv/client";
import { checkHistory, HistoryRecorder, type CheckResult, type History } from "raftkv/testing";
import { ProcessCluster, until } from "../harness.js";
import { Nemesis } from "./nemesis.js";
import { PeerProxy } from "./proxy.js";
import { formatReport, passed, unavailability, type FaultReport } from "./report.js";
import { faultKinds, faultSchedule, type FaultStep, type ScheduleTiming } from "./schedule.js";
import { Lockers } from "./lockers.js";
import { Watchers, type WatchReport } from "./watchers.js";
import { httpPort, recordOne, Worker, type KvPort } from "./workers.js";
import { enableAuth, secureRun, type ClientAccessOptions, type SecureRun } from "./secure.js";

export interface FaultRunOptions {
  /** How long faults go on; at least one round of every kind runs however short this is. */
  readonly seconds: number;
  readonly seed: number;
  readonly workers?: number;
  readonly keys?: number;
  readonly timing?: ScheduleTiming;
  /** Progress lines (faults as they happen); the report is returned, not logged. */
  readonly log?: (line: string) => void;
  /** --snapshot-entries of every member: small enough that restarted members catch up by InstallSnapshot. */
  readonly snapshotEntries?: number;
  /** Keep the members' logs and data and the history even when the run passes (a failed run always keeps them). */
  readonly keep?: boolean;
  /** TLS on both ports and auth on, the workload as a user that is not root (secure.ts). */
  readonly secure?: boolean;
  /** The workers speak etcd's v3 gRPC API (grpc_kv.ts); recovery and the final reads stay on raftkv's HTTP API. */
  readonly grpc?: boolean;
}

const members = 5;
const electionTimeoutMs = 150;
const clientTimeoutMs = 4_000;
/** Generous: a 2-core machine running five members, the proxy and the clients is slow to settle. */
const recoverTimeoutMs = 90_000;
const defaultSnapshotEntries = 2_000;
const lockers = 3;
export const defaultTiming: ScheduleTiming = { holdMsMin: 1_500, holdMsMax: 5_000, gapMsMin: 1_000, gapMsMax: 2_500 };

export async function runFault(options: FaultRunOptions): Promise<FaultReport> {
  const log = options.log ?? (() => undefined);
  const workerCount = options.workers ?? 10;
  const keys = Array.from({ length: options.keys ?? 8 }, (_, i) => `k${i}`);
  const secure = options.secure === true ? await secureRun() : undefined;
  const access: ClientAccessOptions = secure?.clientOptions ?? {};
  const { cluster, closeLogs } = await loggedCluster(options, secure);
  // Whatever ends this process (an error, Ctrl-C) must not leave members running or data behind.
  const onExit = (): void => {
    for (const m of cluster.members) m.process?.kill("SIGKILL");
    rmSync(cluster.dir, { recursive: true, force: true });
    if (secure !== undefined) rmSync(secure.dir, { recursive: true, force: true });
  };
  process.on("exit", onExit);
  let proxy: PeerProxy | undefined;
  const workers: Worker[] = [];
  let watchers: Watchers | undefined;
  let locks: Lockers | undefined;
  let stopped: Promise<void> | undefined;
  const stopAll = (): Promise<void> =>
    (stopped ??= (async () => {
      await Promise.all(workers.map((w) => w.stop()));
      await locks?.stop();
      await watchers?.close();
      await proxy?.close();
      await Promise.all(cluster.members.map((m) => cluster.stopMember(m.name, "SIGKILL")));
      await closeLogs();
    })());
  // Anything but a passing run keeps the logs and data for a look.
  let keep = true;
  try {
    proxy = await PeerProxy.start(
      cluster.members.map((m) => ({
        name: m.name,
        id: nodeIdOf(m.name),
        listen: m.peerAddr,
        target: m.listenPeerAddr,
      })),
      secure?.proxyTls,
    );
    await startMembers(cluster);
    if (secure !== undefined) await enableAuth(await cluster.leader(60_000), secure.access);
    const t0 = performance.now();
    const clock = (): number => Math.round((performance.now() - t0) * 100) / 100;
    const stamped = (line: string): void => log(`[${(clock() / 1000).toFixed(1).padStart(6)} s] ${line}`);
    const recorder = new HistoryRecorder();
    const unexpected: string[] = [];
    for (let i = 0; i < workerCount; i++)
      workers.push(
        worker(
          i,
          cluster.members[i % members]!.clientAddr,
          options.seed,
          { recorder, clock, unexpected },
          keys,
          access,
          options.grpc === true,
        ),
      );
    watchers = new Watchers(cluster, access);
    locks = new Lockers(cluster, lockers, options.seed, clock, access);
    const nemesis = new Nemesis(cluster, proxy, clock, stamped);
    const schedule = faultSchedule(
      options.seed,
      cluster.members.map((m) => m.name),
      options.timing ?? defaultTiming,
    );
    // At least one round, so that even a short run has seen every kind of fault.
    for (let steps = 0; steps < faultKinds.length || clock() < options.seconds * 1000; steps++) {
      const { value: step } = schedule.next() as IteratorYieldResult<FaultStep>;
      stamped(`${step.kind} for ${step.holdMs} ms`);
      await nemesis.run(step);
    }
    await nemesis.healAll();
    const healedAt = performance.now();
    await Promise.all(workers.map((w) => w.stop()));
    const lock = await locks.stop();
    stamped("fault phase over; waiting for every member to serve");

    const { recoveryMs, recoveryError } = await recover(
      cluster,
      keys,
      { recorder, clock, unexpected },
      { healedAt, access },
      stamped,
    );
    const history = recorder.history();
    let watch: WatchReport | undefined;
    let check: CheckResult | undefined;
    const checkStarted = performance.now();
    if (recoveryError === undefined) {
      stamped("waiting for every watcher to reach the last revision");
      watch = await finishWatchers(cluster, watchers, history, access);
      stamped(`checking ${history.length} operations`);
      check = checkHistory(history);
    }
    const checkMs = performance.now() - checkStarted;
    await stopAll();
    const partial = {
      seed: options.seed,
      seconds: options.seconds,
      members,
      workers: workerCount,
      keys: keys.length,
      history,
      faults: nemesis.counts,
      leaderKills: nemesis.leaderKills,
      unavailableMs: unavailability(history, nemesis.leaderKills, electionTimeoutMs),
      recoveryMs,
      recoveryError,
      check,
      checkMs,
      unexpected,
      framesDropped: proxy.dropped,
      framesForwarded: proxy.forwarded,
      snapshots: await snapshotCounts(join(cluster.dir, "logs")),
      watch,
      lock,
      keptDir: undefined,
    };
    keep = options.keep === true || !passed(partial);
    if (!keep) return partial;
    const report = { ...partial, keptDir: cluster.dir };
    await writeFile(join(cluster.dir, "history.json"), JSON.stringify(history));
    await writeFile(join(cluster.dir, "report.txt"), `${formatReport(report)}\n`);
    return report;
  } catch (error) {
    throw new Error(
      `${error instanceof Error ? error.message : String(error)}\n(logs and data kept in ${cluster.dir})`,
      { cause: error },
    );
  } finally {
    await stopAll();
    process.off("exit", onExit);
    if (!keep) await cluster.stop();
    if (secure !== undefined) rmSync(secure.dir, { recursive: true, force: true });
  }
}

type Recording = Parameters<typeof recordOne>[0];

/** The members, not started, each one's output also in DIR/logs/NAME.log until closeLogs(). */
async function loggedCluster(
  options: FaultRunOptions,
  secure: SecureRun | undefined,
): Promise<{ cluster: ProcessCluster; closeLogs: () => Promise<void> }> {
  const logs = new Map<string, WriteStream>();
  let logsClosed = false;
  const cluster = await ProcessCluster.create(members, {
    privatePeerPorts: true,
    serveArgs: [
      ...["--snapshot-entries", String(options.snapshotEntries ?? defaultSnapshotEntries)],
      ...(secure?.serveArgs ?? []),
    ],
    ...(secure === undefined ? {} : { access: secure.access }),
    onOutput: (name, chunk) => {
      if (logsClosed) return;
      let stream = logs.get(name);
      if (stream === undefined)
        logs.set(name, (stream = createWriteStream(join(cluster.dir, "logs", `${name}.log`), { flags: "a" })));
      stream.write(chunk);
    },
  });
  await mkdir(join(cluster.dir, "logs"));
  const closeLogs = async (): Promise<void> => {
    logsClosed = true;
    await Promise.all([...logs.values()].map((s) => new Promise((resolve) => s.end(resolve))));
  };
  return { cluster, closeLogs };
}

/** Client worker `id`, bound to the member at `endpoint`. */
function worker(
  id: number,
  endpoint: string,
  seed: number,
  recording: Recording,
  keys: readonly string[],
  access: ClientAccessOptions,
  grpc: boolean,
): Worker {
  const seeded = { seed: seed * 1000 + id, timeoutMs: clientTimeoutMs };
  return new Worker({ id, endpoint, keys, ...recording, ...seeded, access, grpc });
}

/** Starts every member and waits for a leader. */
async function startMembers(cluster: ProcessCluster): Promise<void> {
  for (const m of cluster.members) cluster.startMember(m.name);
  await cluster.leader(60_000).catch((error: unknown) => {
    const tails = cluster.members.map(
      (m) => `${m.name} (exit ${String(m.process?.exitCode ?? "none")}): ${m.output.slice(-300)}`,
    );
    throw new Error(`the cluster did not start: ${String(error)}\n${tails.join("\n")}`);
  });
}

/** After the heal: every member serves a write, then every key is read on every member (all recorded). */
async function recover(
  cluster: ProcessCluster,
  keys: readonly string[],
  recording: Recording,
  { healedAt, access }: { healedAt: number; access: ClientAccessOptions },
  stamped: (line: string) => void,
): Promise<{ recoveryMs: number | undefined; recoveryError: string | undefined }> {
  try {
    await serveEverywhere(cluster, keys, recording, access);
    const recoveryMs = performance.now() - healedAt;
    stamped("every member serves; reading every key on every member");
    await readEverywhere(cluster, keys, recording, access);
    return { recoveryMs, recoveryError: undefined };
  } catch (error) {
    return { recoveryMs: undefined, recoveryError: error instanceof Error ? error.message : String(error) };
  }
}

/**
 * Waits until every watcher has vouched for the cluster's last revision, then checks their streams,
 * with every acknowledged put among what they saw.
 */
async function finishWatchers(
  cluster: ProcessCluster,
  watchers: Watchers,
  history: History,
  access: ClientAccessOptions,
): Promise<WatchReport> {
  const leader = await cluster.leader(recoverTimeoutMs);
  const client = new RaftkvClient({ endpoints: [leader.clientAddr], timeoutMs: 5_000, ...access });
  try {
    // A linearizable read: its revision is at least every acknowledged write's.
    const { revision } = await client.range({ prefix: "" }, { limit: 1 });
    await until(
      `every watcher at revision ${revision}`,
      async () => ((await watchers.caughtUp(revision)) ? true : undefined),
      recoverTimeoutMs,
    );
  } finally {
    client.close();
  }
  const writes = history.flatMap((o) =>
    o.outcome === "ok" && (o.op.type === "put" || (o.op.type === "cas" && o.result === true))
      ? [{ key: o.key, value: o.op.value }]
      : [],
  );
  return watchers.finish(writes);
}

/** One client per member, talking to that member only. */
function memberClients(cluster: ProcessCluster, access: ClientAccessOptions): { name: string; client: KvPort }[] {
  return cluster.members.map((m) => ({
    name: m.name,
    client: httpPort(new RaftkvClient({ endpoints: [m.clientAddr], timeoutMs: 5_000, ...access })),
  }));
}

/** Waits until every member has acknowledged a write (recorded like any other). */
async function serveEverywhere(
  cluster: ProcessCluster,
  keys: readonly string[],
  recording: Recording,
  access: ClientAccessOptions,
): Promise<void> {
  await cluster.leader(recoverTimeoutMs);
  const clients = memberClients(cluster, access);
  try {
    await Promise.all(
      clients.map(({ name, client }, i) => {
        let attempt = 0;
        const key = keys[i % keys.length]!;
        return until(
          `a write through ${name}`,
          async () =>
            (
              await recordOne(recording, `recover-${name}`, client, key, {
                type: "put",
                value: `recover-${name}-${++attempt}`,
              })
            ).outcome === "ok"
              ? true
              : undefined,
          recoverTimeoutMs,
        );
      }),
    );
  } finally {
    for (const c of clients) c.client.close();
  }
}

/** Reads every key on every member with a linearizable read, into the history. */
async function readEverywhere(
  cluster: ProcessCluster,
  keys: readonly string[],
  recording: Recording,
  access: ClientAccessOptions,
): Promise<void> {
  const clients = memberClients(cluster, access);
  try {
    for (const { name, client } of clients) {
      for (const key of keys) {
        await until(
          `a read of ${key} on ${name}`,
          async () =>
            (await recordOne(recording, `final-${name}`, client, key, { type: "get" })).outcome === "ok"
              ? true
              : undefined,
          recoverTimeoutMs,
        );
      }
    }
  } finally {
    for (const c of clients) c.client.close();
  }
}

/** Snapshots taken and installed, from the members' JSON log lines. */
async function snapshotCounts(dir: string): Promise<{ taken: number; installed: number }> {
  const counts = { taken: 0, installed: 0 };
  for (const file of await readdir(dir)) {
    for (const line of (await readFile(join(dir, file), "utf8")).split("\n")) {
      if (line.includes('"snapshot":"taken"')) counts.taken++;
      else if (line.includes('"snapshot":"installed"')) counts.installed++;
    }
  }
  return counts;
}
