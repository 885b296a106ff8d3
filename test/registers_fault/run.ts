import { checkRegisterHistory, type RegisterOperation } from "raftkv/testing";
import { RegisterCluster, type RegisterAnswer } from "../registers_cluster.js";

/*
 * The register service's fault run on real processes: clients compare-and-set and read a few
 * registers on random members over HTTP while a nemesis SIGKILLs members (sometimes two of three,
 * so writes time out with no quorum), SIGSTOPs them for a while, and restarts them. Every call is
 * recorded with its invocation and answer times; a call with no answer (a timeout, a connection
 * lost to a kill) may or may not have taken effect. At the end the faults stop, every member comes
 * back, and the history is checked for linearizability (register_history.ts).
 */

export interface FaultRunOptions {
  readonly seconds: number;
  readonly clients: number;
  readonly registers: number;
  readonly log?: (line: string) => void;
}

export interface FaultRunReport {
  readonly operations: number;
  readonly answered: number;
  readonly unknown: number;
  readonly versions: number;
  readonly nemesis: Readonly<Record<string, number>>;
  readonly violations: readonly string[];
}

type MutableOperation = { -readonly [K in keyof RegisterOperation]: RegisterOperation[K] };

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const pick = <T>(items: readonly T[]): T => items[Math.floor(Math.random() * items.length)]!;

export async function runRegisterFault(options: FaultRunOptions): Promise<FaultRunReport> {
  const log = options.log ?? (() => undefined);
  const cluster = await RegisterCluster.start(3, 2000);
  const history: MutableOperation[] = [];
  const nemesis: Record<string, number> = { kill: 0, killTwo: 0, pause: 0, restart: 0 };
  const registers = Array.from({ length: options.registers }, (_, i) => `reg${i}`);
  const deadline = performance.now() + options.seconds * 1000;
  let faultsOn = true;
  try {
    const clients = Array.from({ length: options.clients }, (_, i) =>
      client(cluster, i, registers, history, () => performance.now() < deadline),
    );
    const faults = (async () => {
      while (faultsOn && performance.now() < deadline - 2000) {
        await sleep(500 + Math.random() * 1500);
        await fault(cluster, nemesis, log);
      }
    })();
    await faults;
    faultsOn = false;
    for (const name of cluster.names) {
      const paused = cluster.process(name);
      if (paused?.running === true) paused.child.kill("SIGCONT");
      if (!cluster.isUp(name)) await cluster.startMember(name);
    }
    await Promise.all(clients);
  } finally {
    await cluster.stopAll();
  }
  const violations = checkRegisterHistory(history);
  const versions = Math.max(0, ...history.map((op) => op.outcome?.version ?? 0));
  const answered = history.filter((op) => op.outcome !== undefined).length;
  return { operations: history.length, answered, unknown: history.length - answered, versions, nemesis, violations };
}

async function fault(
  cluster: RegisterCluster,
  counts: Record<string, number>,
  log: (line: string) => void,
): Promise<void> {
  const up = cluster.names.filter((name) => cluster.isUp(name));
  const down = cluster.names.filter((name) => !cluster.isUp(name));
  const roll = Math.random();
  if (down.length > 0) {
    const name = pick(down);
    counts.restart!++;
    log(`restart ${name}`);
    await cluster.startMember(name);
  } else if (roll < 0.5) {
    const name = pick(up);
    counts.kill!++;
    log(`SIGKILL ${name}`);
    await cluster.kill(name);
    if (Math.random() < 0.3) {
      const second = pick(up.filter((n) => n !== name));
      counts.killTwo!++;
      log(`SIGKILL ${second} too: no quorum`);
      await cluster.kill(second);
    }
  } else {
    const name = pick(up);
    const member = cluster.process(name)!;
    counts.pause!++;
    log(`SIGSTOP ${name}`);
    member.child.kill("SIGSTOP");
    await sleep(300 + Math.random() * 1200);
    if (member.running) member.child.kill("SIGCONT");
  }
}

/** One client: calls one at a time until `going()` turns false; cas values are unique per call. */
async function client(
  cluster: RegisterCluster,
  id: number,
  registers: readonly string[],
  history: MutableOperation[],
  going: () => boolean,
): Promise<void> {
  const known = new Map<string, number>();
  for (let n = 0; going(); n++) {
    const register = pick(registers);
    // Members the nemesis killed refuse connections: such a call never reached anyone, so skip it.
    const up = cluster.names.filter((name) => cluster.isUp(name));
    if (up.length === 0) {
      await sleep(50);
      continue;
    }
    const member = pick(up);
    const isRead = Math.random() < 0.4;
    const expected = Math.random() < 0.8 ? (known.get(register) ?? 0) : Math.floor(Math.random() * 4);
    const value = `c${id}-${n}`;
    const op: MutableOperation = {
      register,
      invokedAt: performance.now(),
      answeredAt: undefined,
      cas: isRead ? undefined : { expected, value: new TextEncoder().encode(value) },
      outcome: undefined,
    };
    history.push(op);
    let answer: RegisterAnswer | undefined;
    try {
      answer = isRead ? await cluster.read(member, register) : await cluster.cas(member, register, expected, value);
    } catch {
      await sleep(50); // refused or cut by a kill: the outcome is unknown
      continue;
    }
    const { status, body } = answer;
    const bytes = body.value == null ? undefined : new TextEncoder().encode(body.value);
    if (status === 200 && isRead) op.outcome = { type: "value", version: body.version!, value: bytes };
    else if (status === 200) op.outcome = { type: "written", version: body.version! };
    else if (status === 409) op.outcome = { type: "conflict", version: body.version!, value: bytes };
    else if (status !== 504 && status !== 503) throw new Error(`unexpected answer ${status}: ${JSON.stringify(body)}`);
    if (op.outcome !== undefined) {
      op.answeredAt = performance.now();
      known.set(register, Math.max(known.get(register) ?? 0, op.outcome.version));
    }
  }
}
