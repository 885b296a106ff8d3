import { assert } from "../../util/assert.js";
import { utf8 } from "../../util/bytes.js";
import { nodeId, type NodeId } from "../../util/ids.js";
import { Prng } from "../../util/prng.js";
import { formatBallot } from "./ballot.js";
import type { Message } from "./messages.js";
import { BasicPaxos } from "./node.js";
import { ChosenLedger } from "./safety.js";
import { Cluster } from "./sim_cluster.js";

/*
 * Duelling proposers. Five members S1–S5; S1 and S5 each write-once their own value at tick 0. Every
 * message takes 1 to 3 ticks (seeded), a phase times out after 12. A pre-emption is an Accept that
 * an acceptor refuses because it has promised the other proposer's later Prepare since; the loser
 * then starts a higher round, whose Prepare may in turn pre-empt the other's Accept.
 *
 * Measured over seeds 1–300 (the tests print these histograms as diagnostics; value:runs):
 *   backoff off (backoffTicksMin 0, retry at once):
 *     pre-emptions 0:3 1:33 2:74 3:43 4:32 5:30 6:23 7:22 8:10 9:7 10:6 11:5 12:4 13:2 14:3 15:1 17:1 22:1
 *     (median 3, mean 4.4); prepare rounds up to 25; ticks to answer both writes median 16, max 86.
 *   randomized backoff, a wait drawn from [4, 8) ticks:
 *     pre-emptions 0:168 1:126 2:5 3:1 (mean 0.46); prepare rounds 2:107 3:185 4:8; ticks median 10, max 17.
 */

const [P, Q] = [nodeId(1), nodeId(5)];

export interface DuelRun {
  /** Rounds whose Accept was refused, in order: the ballot and the promise that first refused it. */
  readonly preemptions: readonly { readonly ballot: string; readonly by: string }[];
  /** Distinct ballots the two proposers prepared. */
  readonly rounds: number;
  readonly ticks: number;
}

/** One seeded run of the duel; throws if a safety check fails or the writes are not both answered. */
export function duel(seed: number, backoffTicksMin: number): DuelRun {
  const prng = new Prng(seed);
  const ids = [1, 2, 3, 4, 5].map(nodeId);
  const members = new Map(
    ids.map((id) => [id, new BasicPaxos({ id, acceptors: ids, random: prng.fork(), phaseTicks: 12, backoffTicksMin })]),
  );
  const ledger = new ChosenLedger(ids.length);
  let inFlight: { at: number; m: Message }[] = [];
  const preemptions: { ballot: string; by: string }[] = [];
  const rounds = new Set<string>();
  const answered = new Set<NodeId>();
  let now = 0;

  /** Carries out `id`'s Readies; `cause` is the message it was handed, to spot refused Accepts. */
  const run = (id: NodeId, cause?: Message): void => {
    const member = members.get(id)!;
    while (member.hasReady()) {
      const ready = member.ready();
      const violations = ledger.observe(id, ready.records);
      assert(violations.length === 0, `seed ${seed}: ${violations.map((v) => v.message).join("; ")}`);
      for (const m of ready.messages) {
        if (m.type === "prepare") rounds.add(formatBallot(m.ballot));
        const ballot = m.type === "nack" ? formatBallot(m.ballot) : "";
        if (m.type === "nack" && cause?.type === "accept" && !preemptions.some((p) => p.ballot === ballot)) {
          preemptions.push({ ballot, by: formatBallot(m.promised) });
        }
        inFlight.push({ at: now + prng.int(1, 4), m });
      }
      if (ready.results.length > 0) answered.add(id);
      member.advance(ready);
    }
  };

  members.get(P)!.cas("r", 0, utf8("p"), 1);
  members.get(Q)!.cas("r", 0, utf8("q"), 1);
  run(P);
  run(Q);
  for (; answered.size < 2; now++) {
    assert(now < 1000, `seed ${seed}: no decision after 1000 ticks`);
    const due = inFlight.filter((e) => e.at <= now);
    inFlight = inFlight.filter((e) => e.at > now);
    for (const { m } of due) {
      members.get(m.to)!.step(m);
      run(m.to, m);
    }
    for (const id of ids) {
      members.get(id)!.tick();
      run(id);
    }
  }
  assert(ledger.chosen("r", 1) !== undefined, `seed ${seed}: answered, yet nothing chosen`);
  return { preemptions, rounds: rounds.size, ticks: now };
}

/** value:count pairs in value order, as the duel's measurements print. */
export function histogram(values: readonly number[]): string {
  const counts = new Map<number, number>();
  for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1);
  return [...counts.entries()]
    .sort(([a], [b]) => a - b)
    .map(([v, n]) => `${v}:${n}`)
    .join(" ");
}

/** Delivery priority of the adversarial network: Prepares overtake everything, Accepts wait for the rest. */
const overtaking: Record<Message["type"], number> = {
  prepare: 0,
  promise: 1,
  nack: 2,
  chosen: 3,
  accepted: 4,
  accept: 5,
};

/**
 * The duel on an adversarial network: S1 and S5 write-once together; the network always delivers
 * the oldest Prepare first, then Promises and nacks, and an Accept only when nothing else is in
 * flight; ticks pass only on an empty network. Retrying at once, each proposer whose round is
 * refused (a nack, often from its own acceptor, which the other's Prepare reached first) prepares
 * again above the other, and that Prepare overtakes the other's Accepts and refuses its round in
 * turn: a livelock, which the run stops after `roundsMax` Prepare rounds with nothing chosen. With a
 * backoff, the refused proposer waits, the other's round completes meanwhile, and its value is
 * chosen. Throws if a safety check fails (sim_cluster.ts checks every persist).
 */
export function adversarialDuel(
  backoffTicksMin: number,
  roundsMax: number,
): { readonly rounds: number; readonly chosen: boolean; readonly ticks: number } {
  const c = new Cluster(5, { phaseTicks: 1000, backoffTicksMin }, 1);
  const [p, q] = [nodeId(1), nodeId(5)];
  c.member(p).cas("r", 0, utf8("p"), 1);
  c.run(p);
  c.member(q).cas("r", 0, utf8("q"), 1);
  c.run(q);
  const rounds = new Set<string>();
  let ticks = 0;
  while (c.ledger.chosen("r", 1) === undefined && rounds.size < roundsMax && ticks < 1000) {
    if (c.network.length === 0) {
      for (const id of c.ids) c.tick(id);
      ticks++;
      continue;
    }
    let next = 0;
    for (const [i, m] of c.network.entries()) if (overtaking[m.type] < overtaking[c.network[next]!.type]) next = i;
    const m = c.network[next]!;
    if (m.type === "prepare") rounds.add(formatBallot(m.ballot));
    c.deliverAt(next);
  }
  return { rounds: rounds.size, chosen: c.ledger.chosen("r", 1) !== undefined, ticks };
}
