/**
 * The short fault run of issue 6 inside `npm test`: 5 real `raftkv serve` processes, 10 clients,
 * one round of every fault kind (SIGKILL of the leader and of a minority, SIGSTOP of the leader and
 * of a node, halves, an isolated leader and node, a bridge), then heal, recover, read everything
 * everywhere and check linearizability; then the same again with TLS and auth on, and a shorter one
 * whose workers speak etcd's v3 gRPC API. The long runs are `npm run fault -- --time 300 --seed S
 * [--secure] [--grpc]`.
 */
import assert from "node:assert/strict";
import { test, type TestContext } from "node:test";
import { checkHistory, checkWatch, historyFromObservations, type Operation, type RecordedWatch } from "raftkv/testing";
import { formatReport, type FaultReport } from "./fault/report.js";
import { runFault } from "./fault/runner.js";
import { faultKinds } from "./fault/schedule.js";

const seed = 20260601;

/**
 * The history with one final read turned stale: it returns the first value acknowledged on its key,
 * which an acknowledged write invoked later replaced. A checker that accepts this saw nothing.
 */
function withStaleFinalRead(history: readonly Operation[]): Operation[] | undefined {
  for (const read of history.filter((o) => String(o.client).startsWith("final-") && o.outcome === "ok")) {
    const first = history.find((o) => o.key === read.key && o.outcome === "ok" && o.op.type === "put");
    if (first === undefined || first.op.type !== "put") continue;
    const written = first.op.value;
    const replaced = history.some(
      (o) =>
        o.key === read.key &&
        o.outcome === "ok" &&
        o.op.type !== "get" &&
        o.invokedAt > (first.completedAt as number) &&
        (o.op.type !== "cas" || o.result === true),
    );
    if (replaced && read.result !== written) return history.map((o) => (o === read ? { ...o, result: written } : o));
  }
  return undefined;
}

/**
 * Whether the checker rejects the streams with one event taken out of the middle of the first
 * watcher's: the other watchers still vouch for it, so the gap must show.
 */
function withGap(streams: readonly RecordedWatch[]): boolean {
  const [first, ...others] = streams;
  if (first === undefined) return false;
  const at = first.messages.findIndex((m, i) => i > first.messages.length / 2 && m.kind === "events");
  if (at < 0) return false;
  const broken: RecordedWatch = { ...first, messages: first.messages.filter((_, i) => i !== at) };
  const { history } = historyFromObservations(others);
  return checkWatch(history, broken).some((v) => v.guarantee === "reliable");
}

/** The short run's checks, which hold the same with TLS and auth on, and over gRPC. */
async function shortRun(
  t: TestContext,
  secure: boolean,
  { grpc = false, seconds = 40 }: { grpc?: boolean; seconds?: number } = {},
): Promise<FaultReport> {
  const progress: string[] = [];
  const report = await runFault({
    seed,
    seconds,
    grpc,
    snapshotEntries: 500,
    timing: { holdMsMin: 1_500, holdMsMax: 3_000, gapMsMin: 1_000, gapMsMax: 1_500 },
    log: (line) => progress.push(line),
    secure,
  });
  const text = formatReport(report);
  for (const line of text.split("\n")) t.diagnostic(line);
  const context = `${text}\n${progress.join("\n")}`;
  assert.notEqual(report.recoveryMs, undefined, context);
  assert.ok(report.check?.ok === true, context);
  for (const kind of faultKinds) assert.ok((report.faults.get(kind) ?? 0) >= 1, `no ${kind} fault\n${context}`);
  assert.deepEqual(report.unexpected, [], context);
  assert.ok(report.framesDropped > 0, `the partitions dropped nothing\n${context}`);
  assert.ok(report.leaderKills.length >= 1, context);
  for (const w of report.unavailableMs)
    assert.notEqual(w, undefined, `a leader kill after which no write succeeded\n${context}`);
  const writes = report.history.filter((o) => o.outcome === "ok" && o.op.type !== "get").length;
  assert.ok(writes > 200, `only ${writes} acknowledged writes\n${context}`);

  assert.ok(report.watch !== undefined, context);
  assert.deepEqual(report.watch.violations, [], context);
  assert.deepEqual(report.watch.missedWrites, [], context);
  assert.ok(report.lock.acquisitions > 0, `no lock was ever taken\n${context}`);
  assert.deepEqual(report.lock.violations, [], context);
  return report;
}

test(
  "a short fault run: every fault kind, the cluster recovers, the history is linearizable, every watch stream passes the checker, and the lock hands out fencing tokens in order",
  { timeout: 240_000 },
  async (t) => {
    const report = await shortRun(t, false);
    assert.ok(report.watch !== undefined);
    assert.ok(withGap(report.watch.streams), "the watch checker accepted a stream with an event removed");
    const stale = withStaleFinalRead(report.history);
    assert.ok(stale !== undefined, "no final read to make stale");
    const verdict = checkHistory(stale);
    assert.equal(verdict.ok, false, "the checker accepted a stale final read");
  },
);

test(
  "the same short fault run with TLS on both ports and auth on (the workload as a user that is not root) stays linearizable",
  { timeout: 240_000 },
  async (t) => {
    await shortRun(t, true);
  },
);

test(
  "a short fault run whose workers speak etcd's gRPC API (Range, Put, DeleteRange, Txn) stays linearizable",
  { timeout: 240_000 },
  async (t) => {
    // One round of every fault kind (the run takes at least that long whatever `seconds` says).
    const report = await shortRun(t, false, { grpc: true, seconds: 20 });
    const viaGrpc = report.history.filter((o) => typeof o.client === "number" && o.outcome === "ok").length;
    assert.ok(viaGrpc > 200, `only ${viaGrpc} operations of the gRPC workers succeeded`);
  },
);
