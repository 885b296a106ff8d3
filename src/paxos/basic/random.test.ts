import assert from "node:assert/strict";
import { test } from "node:test";
import { bytesEqual, fromUtf8, utf8 } from "../../util/bytes.js";
import type { NodeId } from "../../util/ids.js";
import { Prng } from "../../util/prng.js";
import { Cluster } from "./cluster.test.helper.js";
import type { RequestResult } from "./state.js";

/*
 * Seeded runs: clients write and read a few registers on random members while the network delays,
 * reorders, duplicates and drops messages and members crash and restart from their disks. After every
 * step: no two quorums accepted different values for a register, every learner agrees with that
 * decision, every answer is the decision (or a proposed value), and no read answers "empty" once a
 * decision predates it. Then the faults stop and every surviving request must be answered.
 */

const registers = ["r0", "r1", "r2"];
const seeds = 80;
const faultSteps = 700;
const healStepsMax = 300;

interface Pending {
  readonly member: NodeId;
  readonly register: string;
  readonly invokedAt: number;
  answered: boolean;
  abandoned: boolean;
}

class Run {
  readonly prng: Prng;
  readonly c: Cluster;
  readonly pending = new Map<number, Pending>();
  readonly proposed = new Map<string, Uint8Array[]>();
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
    let result;
    if (this.prng.chance(0.35)) result = node.read(register, request);
    else {
      const value = utf8(`${this.seed}/${request}`);
      this.proposed.set(register, [...(this.proposed.get(register) ?? []), value]);
      result = node.propose(register, value, request);
    }
    assert.deepEqual(result, { ok: true });
    this.pending.set(request, { member, register, invokedAt: this.c.now, answered: false, abandoned: false });
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
    this.c.checkLearners();
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
    const decision = this.c.decided.get(result.register);
    if (result.outcome.type === "empty") {
      assert.ok(decision === undefined || decision.at >= p.invokedAt, `${where}: empty, decided before the read`);
      return;
    }
    const { value } = result.outcome;
    assert.ok(decision !== undefined && bytesEqual(decision.value, value), `${where}: ${fromUtf8(value)} undecided`);
    const proposed = this.proposed.get(result.register) ?? [];
    assert.ok(
      proposed.some((v) => bytesEqual(v, value)),
      `${where}: ${fromUtf8(value)} was never proposed`,
    );
  }
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

test(`${seeds} seeded runs with loss, duplication, reordering and crashes stay safe, then finish`, () => {
  let answered = 0;
  let decided = 0;
  for (let seed = 1; seed <= seeds; seed++) {
    const run = new Run(seed);
    for (let step = 0; step < faultSteps; step++) {
      run.c.clockTick();
      run.faultStep();
      run.check();
    }
    heal(run);
    answered += [...run.pending.values()].filter((p) => p.answered).length;
    decided += run.c.decided.size;
  }
  // A run whose faults left nothing to check would pass vacuously.
  assert.ok(answered > seeds * 20, `only ${answered} answers`);
  assert.ok(decided > seeds * 2, `only ${decided} decisions`);
});
