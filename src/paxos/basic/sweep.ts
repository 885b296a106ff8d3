import { AssertionError } from "../../util/assert.js";
import { bytesEqual, utf8 } from "../../util/bytes.js";
import type { NodeId } from "../../util/ids.js";
import { Prng } from "../../util/prng.js";
import { checkRegisterHistory, type RegisterOperation } from "./register_history.js";
import { Cluster } from "./sim_cluster.js";
import type { RequestResult } from "./state.js";

/*
 * One seeded simulation of the register service's core: clients compare-and-set and read a few
 * registers on random members while the network delays, reorders, duplicates and drops messages and
 * members crash (between inputs, or after a Ready's persist and send but before its advance) and
 * restart from their disks. Then the faults stop and every surviving request must be answered.
 *
 * Checked on every step (sim_cluster.ts, safety.ts): an acceptor never breaks a promise (its durable
 * records and its replies), at most one value is chosen per instance, members learn only chosen
 * values, versions have no holes. Checked on every answer: it agrees with the ledger of chosen
 * values. Checked at the end: the clients' history is linearizable (register_history.ts).
 */

const registers = ["r0", "r1", "r2"];
const faultSteps = 700;
const healStepsMax = 300;

export interface SweepViolation {
  /** Which check: safety (promises, one value per instance), answer, linearizability, liveness. */
  readonly check: "safety" | "answer" | "linearizability" | "liveness";
  readonly message: string;
}

export interface SeedResult {
  readonly seed: number;
  /** The first violation of each kind found; empty when the seed passed. */
  readonly violations: readonly SweepViolation[];
  readonly operations: number;
  readonly answered: number;
  /** Versions chosen, over all registers. */
  readonly versions: number;
  /** Answers by kind: value, written, conflict above, conflict below. */
  readonly tally: ReadonlyMap<string, number>;
}

interface Call {
  readonly member: NodeId;
  readonly op: { -readonly [K in keyof RegisterOperation]: RegisterOperation[K] };
  answered: boolean;
  abandoned: boolean;
}

class Run {
  readonly prng: Prng;
  readonly c: Cluster;
  readonly calls = new Map<number, Call>();
  readonly tally = new Map<string, number>();
  readonly violations: SweepViolation[] = [];
  /** Orders every call and answer: an answer is stamped when the client sees it, after the step that sent it. */
  #clock = 0;
  #nextRequest = 1;
  readonly #seen = new Map<NodeId, number>();

  constructor(readonly seed: number) {
    this.prng = new Prng(seed);
    this.c = new Cluster(this.prng.pick([3, 5]), { phaseTicks: 6, backoffTicksMin: 2 }, seed);
  }

  submit(): void {
    const member = this.prng.pick(this.c.ids.filter((id) => this.c.isUp(id)));
    const register = this.prng.pick(registers);
    const request = this.#nextRequest++;
    const node = this.c.member(member);
    let cas: RegisterOperation["cas"];
    if (!this.prng.chance(0.35)) {
      const known = node.latestKnown(register).version;
      // Mostly from the version this member knows, sometimes from a stale or a future one.
      const expected = this.prng.chance(0.7) ? known : this.prng.int(0, known + 3);
      cas = { expected, value: utf8(`${this.seed}/${request}`) };
    }
    const result =
      cas === undefined ? node.read(register, request) : node.cas(register, cas.expected, cas.value, request);
    if (!result.ok) throw new AssertionError(`request ${request} refused: ${result.error}`);
    const op = { register, invokedAt: this.#clock++, answeredAt: undefined, cas, outcome: undefined };
    this.calls.set(request, { member, op, answered: false, abandoned: false });
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
    for (const call of this.calls.values()) if (call.member === id && !call.answered) call.abandoned = true;
  }

  /** Checks every answer given since the last call against the ledger of chosen values. */
  check(): void {
    for (const id of this.c.ids) {
      const results = this.c.results.get(id)!;
      for (const result of results.slice(this.#seen.get(id) ?? 0)) this.#checkResult(result);
      this.#seen.set(id, results.length);
    }
  }

  unanswered(): number {
    return [...this.calls.values()].filter((call) => !call.answered && !call.abandoned).length;
  }

  #fail(message: string): void {
    if (!this.violations.some((v) => v.check === "answer")) this.violations.push({ check: "answer", message });
  }

  #checkResult(result: RequestResult): void {
    const call = this.calls.get(result.request);
    const where = `request ${result.request} on ${result.register}`;
    if (call === undefined || call.answered || call.abandoned) {
      this.#fail(`${where}: an answer nobody waits for`);
      return;
    }
    call.answered = true;
    call.op.answeredAt = this.#clock++;
    call.op.outcome = result.outcome;
    const { outcome } = result;
    const { cas } = call.op;
    const kind =
      outcome.type !== "conflict" ? outcome.type : `conflict ${outcome.version > cas!.expected ? "above" : "below"}`;
    this.tally.set(kind, (this.tally.get(kind) ?? 0) + 1);
    const chosen = outcome.version === 0 ? undefined : this.c.ledger.chosen(result.register, outcome.version);
    if (outcome.version !== 0 && chosen === undefined) this.#fail(`${where}: version ${outcome.version} not chosen`);
    else if (outcome.type === "written" && !bytesEqual(chosen!, cas!.value)) {
      this.#fail(`${where}: written, but another value was chosen at version ${outcome.version}`);
    } else if (outcome.type !== "written" && !optionalBytesEqual(chosen, outcome.value)) {
      this.#fail(`${where}: ${outcome.type} reports a value not chosen at version ${outcome.version}`);
    }
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
  const left = run.unanswered();
  if (left > 0) run.violations.push({ check: "liveness", message: `${left} requests unanswered after the heal` });
}

/** Runs one seed; never throws for what the seed finds (a failed check is a violation). */
export function runSeed(seed: number): SeedResult {
  const run = new Run(seed);
  try {
    for (let step = 0; step < faultSteps; step++) {
      run.c.clockTick();
      run.faultStep();
      run.check();
    }
    heal(run);
  } catch (error) {
    if (!(error instanceof AssertionError)) throw error;
    run.violations.push({ check: "safety", message: error.message });
  }
  const history = [...run.calls.values()].map((call) => call.op);
  const unlinearizable = checkRegisterHistory(history);
  if (unlinearizable.length > 0) run.violations.push({ check: "linearizability", message: unlinearizable[0]! });
  return {
    seed,
    violations: run.violations,
    operations: history.length,
    answered: history.filter((op) => op.outcome !== undefined).length,
    versions: registers.reduce((sum, r) => sum + run.c.ledger.latest(r), 0),
    tally: run.tally,
  };
}
