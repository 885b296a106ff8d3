import assert from "node:assert/strict";
import { test } from "node:test";
import { bytesEqual, fromUtf8, utf8 } from "../../util/bytes.js";
import type { NodeId } from "../../util/ids.js";
import { Prng } from "../../util/prng.js";
import { Cluster } from "./cluster.test.helper.js";
import type { RequestResult } from "./state.js";

/*
 * Seeded runs: clients compare-and-set and read a few registers on random members while the network
 * delays, reorders, duplicates and drops messages and members crash and restart from their disks.
 * Every persist goes through safety.ts (the cluster helper). Every answer is checked against the
 * ledger of chosen instances: a write is its version's chosen value, a conflict names a version that
 * is not the expected one and its chosen value, and no read (or conflict below the expected version)
 * answers a version older than one chosen before the request was made. Then the faults stop and
 * every surviving request must be answered.
 */

const registers = ["r0", "r1", "r2"];
const seeds = 80;
const faultSteps = 700;
const healStepsMax = 300;

interface Pending {
  readonly member: NodeId;
  readonly register: string;
  readonly invokedAt: number;
  /** A compare-and-set's expected version and value; undefined for a read. */
  readonly cas: { readonly expected: number; readonly value: Uint8Array } | undefined;
  answered: boolean;
  abandoned: boolean;
}

class Run {
  readonly prng: Prng;
  readonly c: Cluster;
  readonly pending = new Map<number, Pending>();
  readonly proposed = new Map<string, Uint8Array[]>();
  /** How many answers of each kind were checked, so a run that never reaches a case shows it. */
  readonly tally = new Map<string, number>();
  #nextRequest = 1;
  #seen = new Map<NodeId, number>();

  constructor(readonly seed: number) {
    this.prng = new Prng(seed);
    this.c = new Cluster(this.prng.pick([3, 5]), { phaseTicks: 6, backoffTicksMin: 2 }, seed);
  }

  submit(): void {
    const member = this.prng.pick(this.c.ids.filter((id) => this.c.isUp(id)));
    const register = this.prng.pick(registers);
    const request = this.#nextRequest++;
    const node = this.c.member(member);
    let cas: Pending["cas"];
    if (!this.prng.chance(0.35)) {
      const known = node.latestKnown(register).version;
      // Mostly from the version this member knows, sometimes from a stale or a future one.
      const expected = this.prng.chance(0.7) ? known : this.prng.int(0, known + 3);
      cas = { expected, value: utf8(`${this.seed}/${request}`) };
      this.proposed.set(register, [...(this.proposed.get(register) ?? []), cas.value]);
    }
    const result =
      cas === undefined ? node.read(register, request) : node.cas(register, cas.expected, cas.value, request);
    assert.deepEqual(result, { ok: true });
    const invokedAt = this.c.now;
    this.pending.set(request, { member, register, invokedAt, cas, answered: false, abandoned: false });
    this.c.run(member);
  }

  faultStep(): void {
    const { c, prng } = this;
    const roll = prng.next();
    const up = c.ids.filter((id) => c.isUp(id));
    if (roll < 0.12 && up.length > 0) this.submit();
    else if (roll < 0.62 && c.network.length > 0) {
      const at = prng.int(0, c.network.length);
      if (prng.chance(0.1)) c.network.push(c.network[at]!);
      if (prng.chance(0.12)) c.network.splice(at, 1);
      else c.deliverAt(at);
    } else if (roll < 0.95 && up.length > 0) c.tick(prng.pick(up));
    else if (roll < 0.97 && up.length > 0) this.crash(prng.pick(up));
    else {
      const down = c.ids.filter((id) => !c.isUp(id));
      if (down.length > 0) c.restart(prng.pick(down));
    }
  }

  /** Half the crashes come between a Ready's persist-and-send and its advance(), the other half between inputs. */
  crash(id: NodeId): void {
    const how = this.prng.int(0, 4);
    if (how < 2) this.c.crash(id);
    else if (how === 2) this.c.crashMidReady(id, (m) => m.tick());
    else {
      const at = this.c.network.findIndex((m) => m.to === id);
      const [m] = at < 0 ? [] : this.c.network.splice(at, 1);
      this.c.crashMidReady(id, (node) => m !== undefined && node.step(m));
    }
    this.check(); // answers that left before the crash are answers
    for (const p of this.pending.values()) if (p.member === id && !p.answered) p.abandoned = true;
  }

  /** Checks every answer given since the last call, and the cluster's safety record. */
  check(): void {
    for (const id of this.c.ids) {
      const results = this.c.results.get(id)!;
      for (const result of results.slice(this.#seen.get(id) ?? 0)) this.#checkResult(result);
      this.#seen.set(id, results.length);
    }
  }

  unanswered(): number {
    return [...this.pending.values()].filter((p) => !p.answered && !p.abandoned).length;
  }

  #checkResult(result: RequestResult): void {
    const p = this.pending.get(result.request);
    const where = `seed ${this.seed} request ${result.request} on ${result.register}`;
    assert.ok(p !== undefined && !p.answered && !p.abandoned, `${where}: unexpected answer`);
    p.answered = true;
    const { outcome } = result;
    const kind =
      outcome.type !== "conflict" ? outcome.type : `conflict ${outcome.version > p.cas!.expected ? "above" : "below"}`;
    this.tally.set(kind, (this.tally.get(kind) ?? 0) + 1);
    const chosen = outcome.version === 0 ? undefined : this.c.ledger.chosen(result.register, outcome.version);
    assert.ok(outcome.version === 0 || chosen !== undefined, `${where}: version ${outcome.version} not chosen`);
    if (outcome.type === "written") {
      assert.ok(
        p.cas !== undefined && outcome.version === p.cas.expected + 1,
        `${where}: written at the wrong version`,
      );
      assert.ok(bytesEqual(chosen!, p.cas.value), `${where}: written, but another value was chosen`);
      return;
    }
    assert.ok(optionalBytesEqual(chosen, outcome.value), `${where}: ${outcome.type} reports an unchosen value`);
    if (outcome.value !== undefined) {
      const proposed = this.proposed.get(result.register) ?? [];
      assert.ok(
        proposed.some((v) => bytesEqual(v, outcome.value!)),
        `${where}: ${fromUtf8(outcome.value)} unproposed`,
      );
    }
    if (outcome.type === "conflict") {
      assert.ok(
        p.cas !== undefined && outcome.version !== p.cas.expected,
        `${where}: a conflict at the expected version`,
      );
      if (outcome.version > p.cas.expected) {
        assert.equal(outcome.version, p.cas.expected + 1, `${where}: conflict beyond the expected version's successor`);
        assert.ok(!bytesEqual(chosen!, p.cas.value), `${where}: a conflict with its own value`);
        return;
      }
    }
    const before = this.#latestChosenBefore(result.register, p.invokedAt);
    assert.ok(outcome.version >= before, `${where}: answered version ${outcome.version}, ${before} was chosen before`);
  }

  /** The latest version chosen before step `at` (instances are chosen in order). */
  #latestChosenBefore(register: string, at: number): number {
    let version = 0;
    for (let when = this.c.chosenAt(register, 1); when !== undefined && when < at;) {
      version++;
      when = this.c.chosenAt(register, version + 1);
    }
    return version;
  }
}

function optionalBytesEqual(a: Uint8Array | undefined, b: Uint8Array | undefined): boolean {
  return a === undefined || b === undefined ? a === b : bytesEqual(a, b);
}

function heal(run: Run): void {
  const { c } = run;
  for (const id of c.ids) if (!c.isUp(id)) c.restart(id);
  for (let step = 0; step < healStepsMax && run.unanswered() > 0; step++) {
    c.clockTick();
    c.settle();
    for (const id of c.ids) c.tick(id);
    run.check();
  }
  assert.equal(run.unanswered(), 0, `seed ${run.seed}: requests still unanswered after the heal`);
}

test(`${seeds} seeded runs with loss, duplication, reordering and crashes stay safe, then finish`, (t) => {
  let answered = 0;
  let versions = 0;
  const tally = new Map<string, number>();
  for (let seed = 1; seed <= seeds; seed++) {
    const run = new Run(seed);
    for (let step = 0; step < faultSteps; step++) {
      run.c.clockTick();
      run.faultStep();
      run.check();
    }
    heal(run);
    answered += [...run.pending.values()].filter((p) => p.answered).length;
    versions += registers.reduce((sum, r) => sum + run.c.ledger.latest(r), 0);
    for (const [kind, n] of run.tally) tally.set(kind, (tally.get(kind) ?? 0) + n);
  }
  t.diagnostic(`answers: ${[...tally].map(([kind, n]) => `${kind} ${n}`).join(", ")}; versions chosen: ${versions}`);
  for (const kind of ["value", "written", "conflict above", "conflict below"]) {
    assert.ok((tally.get(kind) ?? 0) >= seeds, `only ${tally.get(kind) ?? 0} answers of kind ${kind}`);
  }
  // A run whose faults left nothing to check would pass vacuously.
  assert.ok(answered > seeds * 20, `only ${answered} answers`);
  assert.ok(versions > seeds * 4, `only ${versions} versions chosen`);
});
