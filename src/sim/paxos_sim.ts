import type { EngineEntry, EngineReady } from "../engine/engine.js";
import { multiPaxosCodec, type MultiPaxosDurable, type MultiPaxosTypes } from "../engine/multi_paxos.js";
import type { NodeView } from "../node/index.js";
import {
  ChosenRegistry,
  compareBallots,
  formatBallot,
  sameBallot,
  sameValue,
  type AcceptedRecord,
  type Ballot,
  type Message,
  type PaxosViolation,
  type Slot,
} from "../paxos/multi/index.js";
import type { NodeId } from "../raft/index.js";
import { engineWire } from "../transport/index.js";
import { logIndex } from "../util/ids.js";
import type { ViolationKind } from "./checkers.js";
import type { Member } from "./member.js";
import type { MessageKind, SimContext, SimEngine } from "./sim_engine.js";

/** An acceptor's promise and records: as last observed, or as made durable by one life. */
interface AcceptorState {
  promised: Ballot;
  readonly records: Map<Slot, AcceptedRecord>;
  /** A leader's snapshot installed through here: it holds the chosen values of every slot up to it. */
  covered: number;
}

/** Per member: what its acceptor held at the last Ready, and what this life has made durable. */
interface PaxosMember {
  seen: AcceptorState;
  durable: AcceptorState;
  /** Whether the next commit observation is the first of this life. */
  firstInLife: boolean;
}

/**
 * Multi-Paxos in the simulator. Its own checks, besides the shared ones (state machine safety,
 * linearizability): at most one value chosen per slot and nothing learnt or applied that was not
 * chosen (ChosenRegistry, fed every durable acceptance); an acceptor never lowers its promise,
 * never accepts below it and never holds two values in one ballot at a slot, from one Ready to the
 * next and across restarts; Promise and Accepted leave only once what they promise is durable;
 * a restart recovers at least what was synced.
 */
export class PaxosSim implements SimEngine<MultiPaxosTypes> {
  readonly wire = engineWire(multiPaxosCodec);
  readonly #ctx: SimContext;
  readonly #chosen: ChosenRegistry;
  readonly #members = new Map<NodeId, PaxosMember>();

  constructor(ctx: SimContext, options: { readonly memberCount: number }) {
    this.#ctx = ctx;
    this.#chosen = new ChosenRegistry(Math.floor(options.memberCount / 2) + 1);
  }

  staleable(m: Message): boolean {
    return m.type === "accept" && m.entries.length > 0;
  }

  is(m: Message, kind: MessageKind): boolean {
    switch (kind) {
      case "vote":
        return m.type === "promise";
      case "ack":
        return m.type === "accepted" && m.slots.length > 0;
      case "append":
        return m.type === "accept" && m.entries.length > 0;
      case "timeoutNow":
        return false;
      case "heartbeatAck":
        return m.type === "accepted" && m.slots.length === 0;
    }
  }

  /** The highest slot an Accept's commit notice says is chosen. */
  commitOf(m: Message): number {
    return m.type === "accept" ? (m.commit.runs.at(-1)?.last ?? 0) : 0;
  }

  describe(m: Message, nameOf: (id: NodeId) => string): string {
    const head = `${m.type} ${nameOf(m.from)}→${nameOf(m.to)}`;
    switch (m.type) {
      case "prepare":
      case "nack":
        return `${head} ${formatBallot(m.ballot)}`;
      case "promise":
        return `${head} ${formatBallot(m.ballot)} accepted=${m.accepted.length} snapshot=${m.snapshotIndex}`;
      case "accept":
        return `${head} ${formatBallot(m.ballot)} slots=${m.entries.map((e) => e.slot).join(",")} commit=${this.commitOf(m)}`;
      case "accepted":
        return `${head} ${formatBallot(m.ballot)} slots=${m.slots.join(",")} learned=${m.learnedThrough}`;
      case "learn":
      case "learnRequest":
      case "snapshot":
      case "readIndexRequest":
      case "readIndexResponse":
      case "propose":
        return head;
    }
  }

  recovered(m: Member, durable: MultiPaxosDurable): number {
    const covered = durable.snapshot?.index ?? 0;
    const after: AcceptorState = {
      promised: durable.hardState.promised,
      records: new Map(durable.accepted.filter((r) => r.slot > covered).map((r) => [r.slot, r])),
      covered,
    };
    const before = this.#members.get(m.id)?.durable;
    if (before !== undefined) {
      if (compareBallots(after.promised, before.promised) < 0)
        this.#fail(
          "notDurable",
          `${m.name} recovered promise ${formatBallot(after.promised)}, below its synced ${formatBallot(before.promised)}`,
        );
      for (const [slot, record] of before.records) {
        if (slot <= covered) continue;
        // A write in flight at the crash may have replaced it with a later acceptance, never an earlier one.
        const found = after.records.get(slot);
        const order = found === undefined ? -1 : compareBallots(found.ballot, record.ballot);
        if (order < 0 || (order === 0 && !sameValue(found!.value, record.value)))
          this.#fail(
            "notDurable",
            `${m.name} lost its synced acceptance of slot ${slot} in ${formatBallot(record.ballot)}`,
          );
      }
    }
    this.#members.set(m.id, { seen: copy(after), durable: after, firstInLife: true });
    return covered;
  }

  readyStarted(m: Member, { write }: EngineReady<MultiPaxosTypes>, node: NodeView<MultiPaxosTypes>): void {
    const member = this.#members.get(m.id)!;
    const status = node.status();
    this.#ctx.checker.observeCommit(m.id, logIndex(status.commitIndex), status.appliedIndex, member.firstInLife);
    member.firstInLife = false;
    // One Ready's promise and records against what the acceptor held at the one before.
    const seen = member.seen;
    const promised = write.hardState?.promised ?? seen.promised;
    if (compareBallots(promised, seen.promised) < 0)
      this.#fail(
        "paxosPromise",
        `acceptor ${m.name} lowered its promise from ${formatBallot(seen.promised)} to ${formatBallot(promised)}`,
      );
    for (const record of write.accepted) {
      const previous = seen.records.get(record.slot);
      if (previous !== undefined && sameBallot(previous.ballot, record.ballot)) {
        if (!sameValue(previous.value, record.value))
          this.#fail(
            "paxosPromise",
            `acceptor ${m.name} accepted two values at slot ${record.slot} in ${formatBallot(record.ballot)}`,
          );
      } else if (compareBallots(record.ballot, seen.promised) < 0) {
        this.#fail(
          "paxosPromise",
          `acceptor ${m.name} accepted slot ${record.slot} in ${formatBallot(record.ballot)} after promising ${formatBallot(seen.promised)}`,
        );
      }
      seen.records.set(record.slot, record);
    }
    seen.promised = compareBallots(promised, seen.promised) > 0 ? promised : seen.promised;
    if (write.snapshot !== undefined) dropThrough(seen, write.snapshot.index);
  }

  readyPersisted(m: Member, { write }: EngineReady<MultiPaxosTypes>): void {
    const durable = this.#members.get(m.id)!.durable;
    if (write.snapshot !== undefined) {
      dropThrough(durable, write.snapshot.index);
      durable.covered = Math.max(durable.covered, write.snapshot.index);
    }
    if (write.hardState !== undefined) durable.promised = write.hardState.promised;
    for (const record of write.accepted) durable.records.set(record.slot, record);
    this.#report(this.#chosen.recordDurable(m.id, write.accepted));
  }

  applied(m: Member, entries: readonly EngineEntry[]): void {
    for (const entry of entries) {
      const kind = entry.kind === "noop" ? "noop" : "command";
      this.#report(this.#chosen.checkLearnt(m.id, entry.index, { kind, data: entry.data }));
    }
  }

  /**
   * A Promise or an Accepted promises what is on the sender's disk: it must be there when it leaves.
   * A slot a durable snapshot covers is held there (its chosen value; the core answers an Accept it
   * took before the snapshot arrived in the same Ready).
   */
  sent(m: Member, message: Message): void {
    const durable = this.#members.get(m.id)?.durable;
    if (durable === undefined) return;
    if (message.type === "promise" && compareBallots(durable.promised, message.ballot) < 0) {
      this.#fail(
        "notDurable",
        `${m.name} promised ${formatBallot(message.ballot)} while its disk holds ${formatBallot(durable.promised)}`,
      );
    } else if (message.type === "accepted") {
      for (const slot of message.slots) {
        const record = durable.records.get(slot);
        if (slot <= durable.covered) continue;
        if (record === undefined || compareBallots(record.ballot, message.ballot) < 0)
          this.#fail(
            "notDurable",
            `${m.name} acknowledged slot ${slot} in ${formatBallot(message.ballot)} before its acceptance was durable`,
          );
      }
    }
  }

  #report(violations: readonly PaxosViolation[]): void {
    for (const v of violations)
      this.#fail(
        v.kind === "twoValuesOneBallot" || v.kind.startsWith("promise") ? "paxosPromise" : "paxosChosen",
        v.message,
      );
  }

  #fail(kind: ViolationKind, message: string): void {
    this.#ctx.checker.fail(kind, message);
  }
}

function copy(state: AcceptorState): AcceptorState {
  return { promised: state.promised, records: new Map(state.records), covered: state.covered };
}

/** A snapshot covers every slot through `index`: the records there are moot (and dropped on disk). */
function dropThrough(state: AcceptorState, index: Slot): void {
  for (const slot of [...state.records.keys()]) if (slot <= index) state.records.delete(slot);
}
