/** What a fault run found, and how it is printed. */
import type { CheckResult, History, Operation } from "raftkv/testing";
import type { LockReport } from "./lockers.js";
import type { LeaderKill } from "./nemesis.js";
import type { WatchReport } from "./watchers.js";
import { faultKinds, type FaultKind } from "./schedule.js";

export interface FaultReport {
  readonly seed: number;
  readonly seconds: number;
  readonly members: number;
  readonly workers: number;
  readonly keys: number;
  readonly history: History;
  readonly faults: ReadonlyMap<FaultKind, number>;
  readonly leaderKills: readonly LeaderKill[];
  /** Per leader kill: ms from the kill to the first write acknowledged by the new leader; undefined if none was. */
  readonly unavailableMs: readonly (number | undefined)[];
  /** ms from healing everything to every member serving a write; undefined when the cluster did not recover. */
  readonly recoveryMs: number | undefined;
  readonly recoveryError: string | undefined;
  readonly check: CheckResult | undefined;
  readonly checkMs: number;
  readonly unexpected: readonly string[];
  readonly framesDropped: number;
  readonly framesForwarded: number;
  readonly snapshots: { readonly taken: number; readonly installed: number };
  /** Watchers on every member (undefined when the cluster did not recover: nothing to check against). */
  readonly watch: WatchReport | undefined;
  readonly lock: LockReport;
  /** Where the logs, data and history were kept (a failed run), or undefined. */
  readonly keptDir: string | undefined;
}

export function passed(r: FaultReport): boolean {
  const watched = r.watch !== undefined && r.watch.violations.length === 0 && r.watch.missedWrites.length === 0;
  return r.recoveryMs !== undefined && r.check?.ok === true && watched && r.lock.violations.length === 0;
}

const isWrite = (o: Operation): boolean => o.op.type !== "get";

/**
 * For each leader kill: the time to the first write acknowledged after it. Answers arriving within
 * the first election timeout after the kill are left out: no new leader can exist that soon
 * (followers keep faith in a leader for a whole election timeout), so they are the dead leader's
 * answers still on their way, and they say nothing about when the cluster served again.
 */
export function unavailability(
  history: History,
  kills: readonly LeaderKill[],
  electionTimeoutMs: number,
): (number | undefined)[] {
  const acks = history
    .filter((o) => o.outcome === "ok" && isWrite(o))
    .map((o) => o.completedAt as number)
    .sort((a, b) => a - b);
  return kills.map((k) => {
    const first = acks.find((t) => t >= k.at + electionTimeoutMs);
    return first === undefined ? undefined : first - k.at;
  });
}

function median(sorted: readonly number[]): number {
  const mid = sorted.length / 2;
  return Number.isInteger(mid)
    ? ((sorted[mid - 1] ?? Number.NaN) + (sorted[mid] ?? Number.NaN)) / 2
    : (sorted[Math.floor(mid)] ?? Number.NaN);
}

function pad(text: string | number, width: number): string {
  return String(text).padStart(width);
}

export function formatReport(r: FaultReport): string {
  const lines: string[] = [];
  lines.push(
    `seed ${r.seed}: ${r.seconds} s of faults on ${r.members} raftkv serve processes, ${r.workers} clients (each bound to one member), ${r.keys} keys`,
  );
  lines.push(
    `faults injected: ${faultKinds.map((k) => `${k} ${r.faults.get(k) ?? 0}`).join(", ")} (total ${[...r.faults.values()].reduce((a, b) => a + b, 0)})`,
  );
  lines.push(
    `peer frames: ${r.framesForwarded} forwarded, ${r.framesDropped} dropped by partitions; snapshots: ${r.snapshots.taken} taken, ${r.snapshots.installed} installed from a leader`,
  );
  lines.push(`operations: ${r.history.length}`);
  lines.push(`  type        ok    fail  unknown`);
  for (const type of ["get", "put", "delete", "cas"] as const) {
    const ops = r.history.filter((o) => o.op.type === type);
    const count = (outcome: string): number => ops.filter((o) => o.outcome === outcome).length;
    const casSplit =
      type === "cas"
        ? `   (ok: ${ops.filter((o) => o.outcome === "ok" && o.result === true).length} succeeded, ${ops.filter((o) => o.outcome === "ok" && o.result === false).length} compare failed)`
        : "";
    lines.push(
      `  ${type.padEnd(6)} ${pad(count("ok"), 8)} ${pad(count("fail"), 7)} ${pad(count("unknown"), 8)}${casSplit}`,
    );
  }
  if (r.unexpected.length > 0)
    lines.push(`unexpected errors (${r.unexpected.length}): ${r.unexpected.slice(0, 5).join("; ")}`);
  const windows = r.unavailableMs.filter((w): w is number => w !== undefined).sort((a, b) => a - b);
  const missing = r.unavailableMs.length - windows.length;
  lines.push(
    r.leaderKills.length === 0
      ? "unavailability after a leader SIGKILL: no leader was killed"
      : `unavailability after a leader SIGKILL (kill → first write acknowledged), ${r.leaderKills.length} kills: ` +
          `median ${median(windows).toFixed(0)} ms, max ${(windows.at(-1) ?? Number.NaN).toFixed(0)} ms` +
          ` [${r.unavailableMs.map((w) => (w === undefined ? "none" : w.toFixed(0))).join(", ")}]${missing > 0 ? ` (${missing} with no write after the kill)` : ""}`,
  );
  lines.push(
    r.recoveryMs === undefined
      ? `recovery: FAILED: ${r.recoveryError ?? "unknown"}`
      : `recovery: every member served a write ${r.recoveryMs.toFixed(0)} ms after healing`,
  );
  const c = r.check;
  if (c === undefined) lines.push("checker: not run");
  else if (c.ok)
    lines.push(
      `checker: linearizable (${c.keys} keys, ${c.operations} operations, ${c.steps} steps, ${r.checkMs.toFixed(0)} ms)`,
    );
  else lines.push(`checker: NOT LINEARIZABLE on key ${JSON.stringify(c.key)}\n${c.explanation}`);
  lines.push(...watchLines(r.watch), ...lockLines(r.lock));
  lines.push(
    `verdict: ${passed(r) ? "PASS" : "FAIL"}${r.keptDir === undefined ? "" : ` (logs, data and history kept in ${r.keptDir})`}`,
  );
  return lines.join("\n");
}

function watchLines(w: WatchReport | undefined): string[] {
  if (w === undefined) return ["watchers: not checked (the cluster did not recover)"];
  const verdict =
    w.violations.length === 0
      ? "every stream ordered, unique, reliable, atomic, resumable and bookmarkable"
      : `${w.violations.length} VIOLATIONS: ${w.violations
          .slice(0, 5)
          .map((v) => `${v.watch} ${v.guarantee}: ${v.detail}`)
          .join("; ")}`;
  const missed = w.missedWrites.length === 0 ? "" : `; ${w.missedWrites.length} acknowledged puts NEVER SEEN`;
  return [`watchers: ${w.watchers} (one per member), ${w.messages} messages, ${w.events} events; ${verdict}${missed}`];
}

function lockLines(l: LockReport): string[] {
  const verdict =
    l.violations.length === 0
      ? "tokens unique and newer for every later holder"
      : `VIOLATIONS: ${l.violations.slice(0, 5).join("; ")}`;
  return [
    `lock: ${l.acquisitions} acquisitions, ${l.writesAccepted} fenced writes accepted, ${l.writesFenced} refused for a stale token, ${l.overlaps} overlapping holders, ${l.errors} failed attempts; ${verdict}`,
  ];
}
