/*
 * The WAL and the snapshot store on a simulated disk that crashes (losing or tearing unsynced writes,
 * rolling back unsynced directory changes), fails calls on demand and flips bits. Each seed is a
 * random run of several lives; after every crash the reopened state is checked against a model of
 * what was saved and what was acknowledged. Seeded and clock-free: a failing seed replays exactly
 * (the message names it; narrow `seedsFrom`/`seedCount` to rerun only it).
 */
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { test } from "node:test";
import { Prng } from "../util/prng.js";
import { logIndex, nodeId, term } from "../util/ids.js";
import type { StorageError, StorageResult } from "../storage/errors.js";
import type { StoredSnapshot } from "../storage/snapshot_store.js";
import { SnapshotStore } from "../storage/snapshot_store.js";
import type { SnapshotMarker, StoredEntry, StoredHardState } from "../storage/types.js";
import type { WalOptions, WalRecovered, WalSave } from "../storage/wal.js";
import { Wal } from "../storage/wal.js";
import { readRecord } from "../storage/wal_record.js";
import { parseSegmentNames } from "../storage/wal_segment.js";
import type { SimDiskOp } from "./disk/faults.js";
import { SimDisk } from "./disk/sim_disk.js";
import type { SimDiskOptions } from "./disk/sim_disk.js";

const seedsFrom = 1;
const seedCount = 400;
const walDir = "/wal";
const snapDir = "/snap";

/** What the WAL holds after a sequence of saves: the model the recovered state is checked against. */
interface LogState {
  readonly hardState: StoredHardState | undefined;
  readonly snapshot: SnapshotMarker | undefined;
  /** Consecutive, from snapshot.index + 1 (or 1). */
  readonly entries: readonly StoredEntry[];
}

/** One issued operation of a life, the state it leads to, and its result once settled (ok: acknowledged). */
interface Issued {
  readonly label: string;
  readonly state: LogState;
  readonly compaction: boolean;
  result: StorageResult<void> | undefined;
}

/** Counts across all seeds, printed as a diagnostic so a run shows what it exercised. */
const tally = {
  lives: 0,
  saves: 0,
  acked: 0,
  compactions: 0,
  installs: 0,
  inFlightAtCrash: 0,
  recoveredUnacked: 0,
  tornTails: 0,
  restarts: 0,
  oldFlipsRefused: 0,
  lastFlipRefused: 0,
  lastFlipRefusedAsHole: 0,
  lastFlipTruncated: 0,
  walFaults: new Map<string, number>(),
  snapshotLoads: 0,
};

// ---- the model ----

const lastIndex = (s: LogState): number => (s.snapshot?.index ?? 0) + s.entries.length;
const offsetOf = (s: LogState): number => s.snapshot?.index ?? 0;
const commitOf = (s: LogState): number => s.hardState?.commit ?? 0;
const termOf = (s: LogState): number => s.hardState?.term ?? 0;

function termAt(s: LogState, index: number): number | undefined {
  if (index === offsetOf(s)) return s.snapshot?.term ?? 0;
  return s.entries[index - offsetOf(s) - 1]?.term;
}

function withEntries(s: LogState, entries: readonly StoredEntry[]): LogState {
  const first = entries[0]!.index;
  return { ...s, entries: [...s.entries.slice(0, first - offsetOf(s) - 1), ...entries] };
}

/** Raft's snapshot rule as the WAL applies it (log_terms.ts compactTerms). */
function compacted(s: LogState, marker: SnapshotMarker): LogState {
  if (termAt(s, marker.index) === marker.term)
    return { ...s, snapshot: marker, entries: s.entries.slice(marker.index - offsetOf(s)) };
  return { ...s, snapshot: marker, entries: [] };
}

function entryKey(e: StoredEntry): string {
  return `${e.index}:${e.term}:${e.kind}:${Buffer.from(e.data).toString("hex")}`;
}

function stateKey(s: LogState): string {
  const hs = s.hardState === undefined ? "-" : `${s.hardState.term}/${s.hardState.vote}/${s.hardState.commit}`;
  const snap = s.snapshot === undefined ? "-" : `${s.snapshot.index}/${s.snapshot.term}`;
  return `${hs} ${snap} [${s.entries.map(entryKey).join(" ")}]`;
}

function describe(s: LogState): string {
  const hs = s.hardState === undefined ? "none" : `t${s.hardState.term} v${s.hardState.vote} c${s.hardState.commit}`;
  const first = s.entries[0]?.index ?? "-";
  return `hardState ${hs}, snapshot ${s.snapshot === undefined ? "none" : `${s.snapshot.index}@${s.snapshot.term}`}, entries ${first}..${lastIndex(s)}`;
}

function snapshotFor(index: number, t: number): StoredSnapshot {
  const data = new TextEncoder().encode(`state machine at ${index} of term ${t};`.repeat(1 + (index % 37)));
  return { index: logIndex(index), term: term(t), config: new TextEncoder().encode(`voters 1,2,3 @${index}`), data };
}

// ---- one seed ----

interface Run {
  readonly seed: number;
  readonly prng: Prng;
  readonly options: WalOptions;
  disk: SimDisk;
  nonce: number;
  /** The newest snapshot whose save resolved ok. */
  ackedSnapshotIndex: number;
  /** Every state any life issued, for checking that a truncated last record leaves a real one. */
  readonly everState: Set<string>;
}

/** Thrown with the seed in front, so a failing run names how to replay it. */
function fail(run: Run, life: number, message: string): never {
  assert.fail(`seed ${run.seed}, life ${life}: ${message}`);
}

async function runSeed(seed: number): Promise<void> {
  const prng = new Prng(seed);
  const run: Run = {
    seed,
    prng,
    options: { walSegmentBytesMax: prng.pick([256, 1024, 4096, 1 << 20]), walBatchBytesMax: prng.pick([128, 1 << 20]) },
    disk: new SimDisk({
      seed: prng.nextUint32(),
      tornWriteProbability: prng.pick([0.3, 0.7, 1]),
      dirChangesKeptProbability: prng.pick([0, 0.5]),
    }),
    nonce: 0,
    ackedSnapshotIndex: 0,
    everState: new Set(),
  };
  let base: LogState = { hardState: undefined, snapshot: undefined, entries: [] };
  run.everState.add(stateKey(base));
  const lives = prng.int(2, 6);
  for (let life = 0; life < lives; life++) {
    const opened = await Wal.open(run.disk, walDir, run.options);
    if (!opened.ok) fail(run, life, `open: ${opened.error.message}`);
    const store = await SnapshotStore.open(run.disk, snapDir);
    if (!store.ok) fail(run, life, `snapshot store: ${store.error.message}`);
    const { history, crashed } = await liveOneLife(run, life, base, opened.value.wal, store.value);
    base = await checkRecovery(run, life, history, crashed);
  }
  // A last crash, and an open that cuts any torn tail, so that the durable bytes are what open reads.
  run.disk = run.disk.crash();
  const last = await Wal.open(run.disk, walDir, run.options);
  if (!last.ok) fail(run, lives, `open after the last crash: ${last.error.message}`);
  await last.value.wal.close();
  await checkLastRecordFlip(run, lives);
}

/**
 * Random saves, compactions and snapshot installs, some left in flight, until a crash (scheduled at
 * a random disk call, or at the end) or the first failure; then the machine crashes, or after a
 * failure that cannot have dropped synced pages, only the process restarts.
 */
async function liveOneLife(
  run: Run,
  life: number,
  base: LogState,
  wal: Wal,
  store: SnapshotStore,
): Promise<{ history: Issued[]; crashed: boolean }> {
  const { prng } = run;
  tally.lives++;
  const history: Issued[] = [
    { label: "recovered", state: base, compaction: false, result: { ok: true, value: undefined } },
  ];
  const inFlight: Promise<void>[] = [];
  const steps = prng.int(3, 30);
  const crashAt = prng.int(0, steps + 3);
  const faultAt = prng.chance(0.3) ? prng.int(0, steps) : -1;
  let injected: { op: SimDiskOp; code: string; path: string } | undefined;
  let failure: StorageError | undefined;
  const restartsBefore = run.disk.stats.restarts;
  const issue = (label: string, state: LogState, promise: Promise<StorageResult<void>>, compaction = false): void => {
    const item: Issued = { label, state, compaction, result: undefined };
    history.push(item);
    run.everState.add(stateKey(state));
    tally.saves++;
    inFlight.push(
      promise.then((result) => {
        item.result = result;
        if (!result.ok) failure ??= result.error;
      }),
    );
  };
  for (let step = 0; step < steps && failure === undefined && run.disk.alive; step++) {
    if (step === crashAt) {
      // Mostly power failures; sometimes only the process is killed (the page cache survives).
      if (prng.chance(0.7)) run.disk.crashAfterOps(prng.int(0, 12));
      else run.disk.restartAfterOps(prng.int(0, 12));
    }
    if (step === faultAt) injected = injectFault(run);
    await randomAction(run, history, store, wal, issue);
    if (prng.chance(0.4)) await Promise.all(inFlight);
  }
  await Promise.all(inFlight);
  checkAcks(run, life, history);
  if (failure !== undefined) await checkFailure(run, life, wal, failure, injected);
  const scheduledDeath = !run.disk.alive;
  if (
    scheduledDeath &&
    history.some((h) => h.result?.ok === false && h.result.error.type === "io" && h.result.error.code === "EBADF")
  )
    tally.inFlightAtCrash++;
  // Sometimes only the process restarts (the page cache, with any unsynced writes, stays).
  const restart = scheduledDeath
    ? run.disk.stats.restarts > restartsBefore
    : prng.chance(failure === undefined ? 0.2 : 0.5);
  run.disk = restart ? run.disk.restart() : run.disk.crash();
  if (restart) tally.restarts++;
  run.disk.clearFaults();
  return { history, crashed: !restart };
}

function injectFault(run: Run): { op: SimDiskOp; code: string; path: string } {
  const [op, code, path] = run.prng.pick<[SimDiskOp, string, string]>([
    ["datasync", "EIO", walDir],
    ["write", "ENOSPC", walDir],
    ["write", "EIO", walDir],
    ["open", "EIO", walDir],
    ["syncDir", "EIO", walDir],
    ["unlink", "EIO", walDir],
    ["datasync", "EIO", snapDir],
    ["write", "ENOSPC", snapDir],
    ["rename", "EIO", snapDir],
    ["syncDir", "EIO", snapDir],
  ]);
  run.disk.failNext(op, code, { path });
  return { op, code, path };
}

type IssueFn = (label: string, state: LogState, promise: Promise<StorageResult<void>>, compaction?: boolean) => void;

async function randomAction(
  run: Run,
  history: readonly Issued[],
  store: SnapshotStore,
  wal: Wal,
  issue: IssueFn,
): Promise<void> {
  const { prng } = run;
  const s = history[history.length - 1]!.state;
  const roll = prng.next();
  const firstOverwritable = Math.max(commitOf(s), offsetOf(s)) + 1;
  if (s.hardState === undefined || roll < 0.08) {
    // A new term, with a vote or not; sometimes it overwrites an uncommitted suffix at once.
    const hardState = { term: term(termOf(s) + 1), vote: nodeId(prng.int(0, 4)), commit: logIndex(commitOf(s)) };
    if (firstOverwritable <= lastIndex(s) && prng.chance(0.6)) {
      const entries = newEntries(run, prng.int(firstOverwritable, lastIndex(s) + 1), prng.int(1, 5), hardState.term);
      issue(
        `overwrite from ${entries[0]!.index} in term ${hardState.term}`,
        { ...withEntries(s, entries), hardState },
        wal.save({ hardState, entries }),
      );
    } else {
      issue(`term ${hardState.term}`, { ...s, hardState }, wal.save({ hardState }));
    }
  } else if (roll < 0.65) {
    const entries = newEntries(run, lastIndex(s) + 1, prng.int(1, 7), termOf(s));
    const next = withEntries(s, entries);
    const save: WalSave = prng.chance(0.5) ? { entries, hardState: advanceCommit(run, next) } : { entries };
    issue(
      `append ${entries[0]!.index}..${lastIndex(next)}`,
      save.hardState === undefined ? next : { ...next, hardState: save.hardState },
      wal.save(save),
    );
  } else if (roll < 0.8) {
    const hs = s.hardState;
    const vote = hs.vote === 0 && prng.chance(0.5) ? nodeId(prng.int(1, 4)) : hs.vote;
    const hardState = { ...advanceCommit(run, s), vote };
    issue(`hard state c${hardState.commit} v${vote}`, { ...s, hardState }, wal.save({ hardState }));
  } else if (roll < 0.93) {
    // The node's own snapshot of applied (so committed) entries, then compaction: as NodeStorage.saveSnapshot.
    const low = offsetOf(s) + 1;
    const high = Math.min(commitOf(s), lastIndex(s));
    if (low > high) return;
    const index = prng.int(low, high + 1);
    await compact(run, store, wal, issue, s, { index: logIndex(index), term: term(termAt(s, index)!) });
  } else {
    // A snapshot installed from the leader, beyond the commit index: as NodeStorage.persist.
    const index = prng.int(Math.max(commitOf(s), offsetOf(s)) + 1, lastIndex(s) + 6);
    if (await compact(run, store, wal, issue, s, { index: logIndex(index), term: term(termOf(s)) })) {
      tally.installs++;
      const hardState = { ...s.hardState, commit: logIndex(index) };
      const after = history[history.length - 1]!.state;
      issue(`commit installed ${index}`, { ...after, hardState }, wal.save({ hardState }));
    }
  }
}

/** Saves the snapshot file first, and compacts the WAL only if that worked; true if compaction was issued. */
async function compact(
  run: Run,
  store: SnapshotStore,
  wal: Wal,
  issue: IssueFn,
  s: LogState,
  marker: SnapshotMarker,
): Promise<boolean> {
  const saved = await store.save(snapshotFor(marker.index, marker.term));
  if (!saved.ok) return false;
  run.ackedSnapshotIndex = Math.max(run.ackedSnapshotIndex, marker.index);
  tally.compactions++;
  issue(`compact to ${marker.index}@${marker.term}`, compacted(s, marker), wal.compact(marker), true);
  return true;
}

function newEntries(run: Run, first: number, count: number, t: number): StoredEntry[] {
  return Array.from({ length: count }, (_, k) => {
    const tag = `i${first + k} t${t} n${run.nonce++} `;
    const data = new TextEncoder().encode(tag + "x".repeat(run.prng.int(0, 90)));
    return { index: logIndex(first + k), term: term(t), kind: run.prng.chance(0.1) ? "config" : "normal", data };
  });
}

function advanceCommit(run: Run, s: LogState): StoredHardState {
  const hs = s.hardState!;
  return { ...hs, commit: logIndex(run.prng.int(hs.commit, Math.max(hs.commit, lastIndex(s)) + 1)) };
}

// ---- checks ----

/** Saves resolve in order: once one has failed, every later one fails too (d). */
function checkAcks(run: Run, life: number, history: readonly Issued[]): void {
  let firstFailed: Issued | undefined;
  for (const item of history) {
    if (item.result === undefined) fail(run, life, `${item.label} never resolved`);
    if (item.result.ok) {
      tally.acked++;
      if (firstFailed !== undefined) fail(run, life, `${item.label} succeeded after ${firstFailed.label} had failed`);
    } else if (!item.compaction) {
      // A compaction can fail deleting old segments after its record, and saves after it, were durable.
      firstFailed ??= item;
    }
  }
}

/** A failure is the injected fault (with the right error type) or the crash; later saves fail at once. */
async function checkFailure(
  run: Run,
  life: number,
  wal: Wal,
  failure: StorageError,
  injected: { op: SimDiskOp; code: string; path: string } | undefined,
): Promise<void> {
  const crashed = failure.type === "io" && failure.code === "EBADF";
  if (!crashed) {
    if (injected === undefined) fail(run, life, `unexpected failure: ${failure.message}`);
    const expected = injected.code === "ENOSPC" ? "noSpace" : "io";
    if (failure.type !== expected)
      fail(run, life, `${injected.op} ${injected.code} gave a ${failure.type} error: ${failure.message}`);
    if (failure.type === "io" && failure.code !== injected.code)
      fail(run, life, `${injected.code} reported as ${failure.code}`);
    if (failure.message.includes("\n") || !failure.message.includes(injected.path))
      fail(run, life, `message does not name the file: ${failure.message}`);
    if (injected.path === walDir) {
      const key = `${injected.op} ${injected.code}`;
      tally.walFaults.set(key, (tally.walFaults.get(key) ?? 0) + 1);
    }
  }
  if (run.disk.alive) {
    const later = await wal.save({});
    if (later.ok) fail(run, life, `a save after "${failure.message}" succeeded before reopening`);
  }
}

/**
 * After a crash: the WAL reopens with exactly the state after some issued save no earlier than the
 * last acknowledged one (a). That state is by construction consecutive and consistent, and holds
 * nothing never saved (b). Sometimes an old record gets a bit flipped first (c). The snapshot store
 * shows only whole snapshots, the newest at least as new as the last acknowledged one.
 */
async function checkRecovery(run: Run, life: number, history: readonly Issued[], crashed: boolean): Promise<LogState> {
  // After a crash the durable bytes are all there is; after a restart reads may see more.
  if (crashed && run.prng.chance(0.3)) await checkOldRecordFlip(run, life);
  const opened = await Wal.open(run.disk, walDir, run.options);
  if (!opened.ok) fail(run, life, `reopen after a crash: ${opened.error.message}`);
  const { wal, recovered } = opened.value;
  const closed = await wal.close();
  if (!closed.ok) fail(run, life, `close: ${closed.error.message}`);
  if (recovered.tornTail !== undefined) tally.tornTails++;
  const state: LogState = { hardState: recovered.hardState, snapshot: recovered.snapshot, entries: recovered.entries };
  const lastAcked = history.reduce((last, item, k) => (item.result?.ok === true ? k : last), 0);
  checkAckedPresent(run, life, history[lastAcked]!, recovered);
  const key = stateKey(state);
  const match = history.findIndex((item, k) => k >= lastAcked && stateKey(item.state) === key);
  if (match < 0) {
    const issued = history
      .map((h, k) => `  ${k}${k === lastAcked ? " (last acked)" : ""}: ${h.label} -> ${describe(h.state)}`)
      .join("\n");
    fail(
      run,
      life,
      `recovered a state no save led to since the last acknowledged one:\n  recovered: ${describe(state)}\n${issued}`,
    );
  }
  if (match > lastAcked) tally.recoveredUnacked++;
  await checkSnapshots(run, life, recovered.snapshot?.index ?? 0);
  return state;
}

/** (a) spelled out for committed entries and the hard state, for a clearer message than a state mismatch. */
function checkAckedPresent(run: Run, life: number, acked: Issued, recovered: WalRecovered): void {
  const offset = recovered.snapshot?.index ?? 0;
  const byIndex = new Map(recovered.entries.map((e) => [e.index as number, e]));
  // Uncommitted entries may have been overwritten since by later (unacknowledged) saves, and any
  // entry may now be covered by a snapshot; the state match in checkRecovery covers the rest.
  for (const entry of acked.state.entries) {
    if (entry.index <= offset || entry.index > commitOf(acked.state)) continue;
    const got = byIndex.get(entry.index);
    if (got === undefined || entryKey(got) !== entryKey(entry)) {
      fail(
        run,
        life,
        `acknowledged entry ${entryKey(entry)} (${acked.label}) recovered as ${got === undefined ? "missing" : entryKey(got)}`,
      );
    }
  }
  const hs = recovered.hardState;
  const want = acked.state.hardState;
  // Later, unacknowledged saves may have moved it on: a higher term, a first vote, a higher commit.
  const behind = (h: StoredHardState, w: StoredHardState): boolean =>
    h.term < w.term || h.commit < w.commit || (h.term === w.term && w.vote !== 0 && h.vote !== w.vote);
  if (want !== undefined && (hs === undefined || behind(hs, want))) {
    fail(run, life, `acknowledged hard state ${JSON.stringify(want)} recovered as ${JSON.stringify(hs)}`);
  }
}

async function checkSnapshots(run: Run, life: number, indexMin: number): Promise<void> {
  const store = await SnapshotStore.open(run.disk, snapDir);
  if (!store.ok) fail(run, life, `snapshot store reopen: ${store.error.message}`);
  const loaded = await store.value.load({ indexMin });
  if (!loaded.ok) fail(run, life, `snapshot load at the WAL's marker ${indexMin}: ${loaded.error.message}`);
  const { snapshot, skipped } = loaded.value;
  if (skipped.length > 0)
    fail(run, life, `a half-written snapshot is visible: ${skipped.map((e) => e.message).join("; ")}`);
  tally.snapshotLoads++;
  if (run.ackedSnapshotIndex > 0 && (snapshot === undefined || snapshot.index < run.ackedSnapshotIndex)) {
    fail(
      run,
      life,
      `snapshot ${run.ackedSnapshotIndex} was acknowledged but load returned ${snapshot?.index ?? "none"}`,
    );
  }
  if (snapshot !== undefined) {
    const expected = snapshotFor(snapshot.index, snapshot.term);
    assert.deepEqual(
      new Uint8Array(snapshot.data),
      expected.data,
      `seed ${run.seed}, life ${life}: snapshot ${snapshot.index} data`,
    );
    assert.deepEqual(
      new Uint8Array(snapshot.config),
      expected.config,
      `seed ${run.seed}, life ${life}: snapshot ${snapshot.index} config`,
    );
  }
  const names = await run.disk.list(snapDir);
  if (names.some((name) => name.endsWith(".tmp")))
    fail(run, life, `temporary snapshot files left after open: ${names.join(", ")}`);
}

interface RecordAt {
  readonly path: string;
  readonly start: number;
  readonly end: number;
}

/** The valid records of every segment, oldest first, as the disk holds them durably. */
async function walRecords(disk: SimDisk): Promise<RecordAt[]> {
  const records: RecordAt[] = [];
  for (const segment of parseSegmentNames(await disk.list(walDir))) {
    const path = `${walDir}/${segment.name}`;
    const bytes = disk.fileBytes(path, "durable")!;
    for (let at = 0; at < bytes.length;) {
      const read = readRecord(bytes, at);
      if (read.type !== "record") break;
      records.push({ path, start: at, end: read.end });
      at = read.end;
    }
  }
  return records;
}

async function durableWal(disk: SimDisk): Promise<string> {
  const names = (await disk.list(walDir)).sort();
  return names
    .map((name) => `${name}:${Buffer.from(disk.fileBytes(`${walDir}/${name}`, "durable")!).toString("hex")}`)
    .join("\n");
}

/** (c) A flipped bit in any record but the last makes open refuse, naming the file and the record's offset. */
async function checkOldRecordFlip(run: Run, life: number): Promise<void> {
  const records = await walRecords(run.disk);
  if (records.length < 2) return;
  const target = records[run.prng.int(0, records.length - 1)]!;
  const flip = run.disk.flipBit(target.path, run.prng.int(target.start, target.end));
  const before = await durableWal(run.disk);
  const opened = await Wal.open(run.disk, walDir, run.options);
  if (opened.ok)
    fail(
      run,
      life,
      `opened despite bit ${flip.bit} of byte ${flip.offset} of ${target.path} flipped (record at ${target.start}..${target.end})`,
    );
  const error = opened.error;
  if (error.type !== "corrupt" || error.file !== target.path || error.offset !== target.start) {
    fail(run, life, `flip at ${target.path}:${flip.offset} (record at ${target.start}) gave: ${JSON.stringify(error)}`);
  }
  assert.ok(error.message.startsWith(`corrupt ${target.path} at byte ${target.start}: `), error.message);
  assert.equal(await durableWal(run.disk), before, `seed ${run.seed}: a refused open changed the disk`);
  run.disk.flipBit(target.path, flip.offset, flip.bit);
  tally.oldFlipsRefused++;
}

/** A flipped bit in the very last record: refused, or cut as a torn tail, but never opened wrong. */
async function checkLastRecordFlip(run: Run, life: number): Promise<void> {
  const records = await walRecords(run.disk);
  const target = records[records.length - 1];
  if (target === undefined) return;
  const flip = run.disk.flipBit(target.path, run.prng.int(target.start, target.end));
  const opened = await Wal.open(run.disk, walDir, run.options);
  if (!opened.ok) {
    // Usually it names the flipped record; if that record was a compaction marker whose older
    // segments are gone, cutting it leaves a hole, reported at byte 0 of the oldest segment.
    const { error } = opened;
    if (error.type !== "corrupt")
      fail(run, life, `last-record flip at ${target.path}:${flip.offset} gave: ${JSON.stringify(error)}`);
    if (error.file === target.path && error.offset === target.start) tally.lastFlipRefused++;
    else tally.lastFlipRefusedAsHole++;
    return;
  }
  const { wal, recovered } = opened.value;
  await wal.close();
  if (recovered.tornTail?.offset !== target.start || recovered.tornTail.file !== target.path) {
    fail(
      run,
      life,
      `last-record flip at ${target.path}:${flip.offset} opened without cutting it: ${JSON.stringify(recovered.tornTail)}`,
    );
  }
  const key = stateKey({ hardState: recovered.hardState, snapshot: recovered.snapshot, entries: recovered.entries });
  if (!run.everState.has(key)) fail(run, life, `last-record flip opened a state no save led to`);
  tally.lastFlipTruncated++;
}

test(`WAL and snapshot store: ${seedCount} seeded runs of crashes, torn writes, failed calls and flipped bits`, async (t) => {
  for (let seed = seedsFrom; seed < seedsFrom + seedCount; seed++) await runSeed(seed);
  const faults = [...tally.walFaults].map(([k, n]) => `${k}×${n}`).join(", ");
  t.diagnostic(
    `${tally.lives} lives, ${tally.saves} saves (${tally.acked} acked), ${tally.compactions} compactions (${tally.installs} installs); ` +
      `${tally.inFlightAtCrash} crashes with saves in flight, ${tally.restarts} process restarts, ${tally.tornTails} torn tails cut, ` +
      `${tally.recoveredUnacked} recoveries with unacknowledged saves; WAL faults: ${faults}; ` +
      `old-record flips refused ${tally.oldFlipsRefused}; last-record flips refused ${tally.lastFlipRefused} (+${tally.lastFlipRefusedAsHole} as a missing marker), cut as torn ${tally.lastFlipTruncated}; ` +
      `snapshot loads ${tally.snapshotLoads}`,
  );
  assert.ok(
    tally.inFlightAtCrash > seedCount / 4 && tally.tornTails > 10 && tally.oldFlipsRefused > 10,
    "the runs exercised what they should",
  );
});

// ---- single scenarios, each a reproduction of one fault ----

const encoder = new TextEncoder();
const entry = (index: number, t = 1): StoredEntry => ({
  index: logIndex(index),
  term: term(t),
  kind: "normal",
  data: encoder.encode(`entry ${index}@${t}`),
});
const hardState = (commit: number): StoredHardState => ({ term: term(1), vote: nodeId(1), commit: logIndex(commit) });
/** Nothing unsynced survives a crash: the plainest reading of the durability contract in disk.ts. */
const strictDisk = (more: Partial<SimDiskOptions> = {}): SimDisk =>
  new SimDisk({
    seed: 1,
    tornWriteProbability: 0,
    dirChangesKeptProbability: 0,
    failedSyncDropsProbability: 0,
    ...more,
  });

async function openWal(
  disk: SimDisk,
  options: WalOptions = {},
  dir = walDir,
): Promise<{ wal: Wal; recovered: WalRecovered }> {
  const opened = await Wal.open(disk, dir, options);
  if (!opened.ok) assert.fail(opened.error.message);
  return opened.value;
}
async function saveOk(wal: Wal, save: WalSave): Promise<void> {
  const saved = await wal.save(save);
  if (!saved.ok) assert.fail(saved.error.message);
}
const indexes = (recovered: WalRecovered): number[] => recovered.entries.map((e) => e.index);

test("WAL: a failed write or datasync fails that save and every later one; a crash and reopen recover all acknowledged data", async () => {
  const cases = [
    ["datasync", "EIO", "io"],
    ["write", "EIO", "io"],
    ["write", "ENOSPC", "noSpace"],
  ] as const;
  for (const [op, code, type] of cases) {
    for (let seed = 1; seed <= 20; seed++) {
      const disk = new SimDisk({ seed });
      const { wal } = await openWal(disk);
      await saveOk(wal, { entries: [entry(1), entry(2)], hardState: hardState(1) });
      disk.failNext(op, code, { path: walDir });
      const results = await Promise.all([
        wal.save({ entries: [entry(3)] }),
        wal.save({ entries: [entry(4)], hardState: hardState(3) }),
      ]);
      const first = results[0];
      assert.ok(!first.ok && first.error.type === type, `${op} ${code}: ${JSON.stringify(first)}`);
      assert.ok(first.error.message.includes(walDir) && !first.error.message.includes("\n"), first.error.message);
      assert.equal(results[1].ok, false, "a save in flight with the failed one fails too");
      assert.equal((await wal.save({ hardState: hardState(4) })).ok, false, "and so does every later one");
      assert.equal((await wal.close()).ok, false);
      const { recovered } = await openWal(disk.crash());
      const got = indexes(recovered).join(",");
      assert.ok(got === "1,2" || got === "1,2,3,4", `${op} ${code} seed ${seed}: recovered ${got}`);
      assert.ok(recovered.hardState !== undefined && recovered.hardState.commit >= 1);
    }
  }
});

test("WAL: a compaction that races a segment roll-over must not delete the segment holding its own marker", async () => {
  for (let seed = 1; seed <= 10; seed++) {
    const disk = new SimDisk({ seed });
    const options = { walSegmentBytesMax: 1, walBatchBytesMax: 1 };
    const { wal } = await openWal(disk, options);
    await saveOk(wal, { entries: [entry(1)], hardState: hardState(2) });
    await saveOk(wal, { entries: [entry(2)] });
    // Appends go on while the compaction deletes old segments (one record per segment here).
    const results = await Promise.all([
      wal.compact({ index: logIndex(2), term: term(1) }),
      wal.save({ entries: [entry(3)] }),
    ]);
    assert.ok(results.every((r) => r.ok));
    assert.ok((await wal.close()).ok);
    // No crash: a clean close, then open.
    const reopened = await Wal.open(disk, walDir, options);
    assert.ok(reopened.ok, `seed ${seed}: ${reopened.ok ? "" : reopened.error.message}`);
    assert.deepEqual(reopened.value.recovered.snapshot, { index: 2, term: 1 });
    assert.deepEqual(indexes(reopened.value.recovered), [3]);
    assert.deepEqual(reopened.value.recovered.hardState, hardState(2));
  }
});

test("WAL: a segment a killed process created but never made durable must not take later acknowledged entries with it", async () => {
  const options = { walSegmentBytesMax: 1 };
  const first = strictDisk();
  const { wal } = await openWal(first, options);
  await saveOk(wal, { entries: [entry(1)] });
  // The roll-over creates segment 1; the process is killed in the syncDir that would make it durable.
  first.restartAfterOps(1, "lost");
  assert.equal((await wal.save({ entries: [entry(2)] })).ok, false);
  const restarted = first.restart();
  const { wal: second, recovered } = await openWal(restarted, options);
  assert.deepEqual(indexes(recovered), [1]);
  await saveOk(second, { entries: [entry(2)] });
  assert.ok((await second.close()).ok);
  // Then the power fails.
  const { recovered: after } = await openWal(restarted.crash(), options);
  assert.deepEqual(indexes(after), [1, 2], "entry 2 was acknowledged");
});

test("WAL: a record a killed process wrote but never synced must not stay unsynced behind a roll-over", async () => {
  const options = { walSegmentBytesMax: 1 };
  const first = strictDisk();
  const { wal } = await openWal(first, options);
  await saveOk(wal, { entries: [entry(1)] });
  // Saving entry 2 rolls over (open, syncDir, close) and writes; the process is killed in the datasync.
  first.restartAfterOps(4, "lost");
  assert.equal((await wal.save({ entries: [entry(2)] })).ok, false);
  const restarted = first.restart();
  const { wal: second, recovered } = await openWal(restarted, options);
  assert.deepEqual(indexes(recovered), [1, 2], "the page cache still holds entry 2");
  // Entry 3 goes to a new segment; nothing ever syncs the one holding entry 2.
  await saveOk(second, { entries: [entry(3)] });
  assert.ok((await second.close()).ok);
  const reopened = await Wal.open(restarted.crash(), walDir, options);
  assert.ok(reopened.ok, `after a power failure: ${reopened.ok ? "" : reopened.error.message}`);
  assert.deepEqual(indexes(reopened.value.recovered), [1, 2, 3], "entry 3 was acknowledged");
});

test("WAL: reopening after a failed datasync must not build on pages the kernel dropped (fsyncgate)", async () => {
  // Linux marks the pages of a failed writeback clean: reads still return them, the disk never gets them.
  const first = strictDisk({ failedSyncDropsProbability: 1 });
  const { wal } = await openWal(first);
  await saveOk(wal, { entries: [entry(1)] });
  first.failNext("datasync", "EIO", { path: walDir });
  const failed = await wal.save({ entries: [entry(2)] });
  assert.ok(!failed.ok && failed.error.type === "io" && failed.error.code === "EIO");
  assert.equal((await wal.save({ hardState: hardState(1) })).ok, false, "refuses writes until reopened");
  await wal.close();
  // The node exits on the error and is restarted; the machine keeps running.
  const restarted = first.restart();
  const { wal: second, recovered } = await openWal(restarted);
  assert.deepEqual(indexes(recovered), [1, 2], "entry 2 is read back from the page cache");
  await saveOk(second, { entries: [entry(3)] });
  assert.ok((await second.close()).ok);
  const reopened = await Wal.open(restarted.crash(), walDir);
  assert.ok(reopened.ok, `after a power failure: ${reopened.ok ? "" : reopened.error.message}`);
  assert.ok(indexes(reopened.value.recovered).includes(3), "entry 3 was acknowledged");
});

test("WAL: opening in a directory whose parents are new makes every new level durable", async () => {
  const disk = strictDisk();
  const dir = "/data/node1/wal";
  const { wal } = await openWal(disk, {}, dir);
  await saveOk(wal, { entries: [entry(1)] });
  assert.ok((await wal.close()).ok);
  const { recovered } = await openWal(disk.crash(), {}, dir);
  assert.deepEqual(indexes(recovered), [1], "entry 1 was acknowledged");
});

test("snapshot store: opening in a directory whose parents are new makes every new level durable", async () => {
  const disk = strictDisk();
  const dir = "/data/node1/snap";
  const store = await SnapshotStore.open(disk, dir);
  assert.ok(store.ok);
  assert.ok((await store.value.save(snapshotFor(5, 1))).ok);
  const again = await SnapshotStore.open(disk.crash(), dir);
  assert.ok(again.ok);
  const loaded = await again.value.load({ indexMin: 0 });
  assert.equal(loaded.ok && loaded.value.snapshot?.index, 5, "snapshot 5 was acknowledged");
});

test("snapshot store: a crash or kill during a save never leaves a half snapshot visible; load returns the newest whole one", async () => {
  const seen = { interrupted: 0, newerThanAcked: 0 };
  for (let seed = 1; seed <= 200; seed++) {
    const prng = new Prng(seed);
    let disk = new SimDisk({
      seed: prng.nextUint32(),
      tornWriteProbability: prng.pick([0.5, 1]),
      dirChangesKeptProbability: prng.pick([0, 0.5, 1]),
    });
    const store = await SnapshotStore.open(disk, snapDir, { snapshotsRetainedMax: prng.int(1, 4) });
    assert.ok(store.ok);
    let acked = 0;
    const count = prng.int(1, 6);
    const interruptAt = prng.int(0, count);
    for (let k = 0; k < count && disk.alive; k++) {
      if (k === interruptAt) {
        if (prng.chance(0.7)) disk.crashAfterOps(prng.int(0, 10));
        else disk.restartAfterOps(prng.int(0, 10));
      }
      if ((await store.value.save(snapshotFor(10 * (k + 1), 1 + k))).ok) acked = 10 * (k + 1);
    }
    if (!disk.alive) seen.interrupted++;
    disk = disk.crash();
    const reopened = await SnapshotStore.open(disk, snapDir);
    assert.ok(reopened.ok, `seed ${seed}`);
    const loaded = await reopened.value.load({ indexMin: 0 });
    assert.ok(loaded.ok, `seed ${seed}`);
    const { snapshot, skipped } = loaded.value;
    assert.deepEqual(skipped, [], `seed ${seed}: a half-written snapshot is visible`);
    const names = await disk.list(snapDir);
    assert.ok(!names.some((name) => name.endsWith(".tmp")), `seed ${seed}: ${names.join(", ")}`);
    if (acked > 0)
      assert.ok(
        snapshot !== undefined && snapshot.index >= acked,
        `seed ${seed}: acked ${acked}, loaded ${snapshot?.index}`,
      );
    if (snapshot === undefined) {
      assert.deepEqual(names, [], `seed ${seed}`);
      continue;
    }
    if (snapshot.index > acked) seen.newerThanAcked++;
    const expected = snapshotFor(snapshot.index, snapshot.term);
    assert.equal(snapshot.term, snapshot.index / 10, `seed ${seed}`);
    assert.deepEqual(new Uint8Array(snapshot.data), expected.data, `seed ${seed}`);
    assert.deepEqual(new Uint8Array(snapshot.config), expected.config, `seed ${seed}`);
    const newest = Math.max(...names.map((name) => parseInt(name.slice(0, 16), 16)));
    assert.equal(snapshot.index, newest, `seed ${seed}: not the newest visible snapshot`);
  }
  assert.ok(seen.interrupted > 50 && seen.newerThanAcked > 0, JSON.stringify(seen));
});
