import type { EngineReady } from "../engine/engine.js";
import type { RaftTypes } from "../engine/raft.js";
import type { NodeView } from "../node/index.js";
import { NO_NODE, type DurableState, type Message, type NodeId, type Term } from "../raft/index.js";
import { raftWire } from "../transport/index.js";
import { logIndex } from "../util/ids.js";
import {
  checkCommitOnDurableQuorum,
  checkConfigCommitDurable,
  checkDurableAck,
  checkRecovery,
} from "./durability_checks.js";
import { DurableMirror } from "./durable_mirror.js";
import { checkIsolatedTerm } from "./isolated_term.js";
import type { Member } from "./member.js";
import type { MessageKind, SimContext, SimEngine } from "./sim_engine.js";
import { describeMessage } from "./trace.js";

/**
 * Raft in the simulator: election safety, log matching, leader completeness, double votes,
 * commits on a durable quorum, durable acknowledgements, and isolated term rises.
 */
export class RaftSim implements SimEngine<RaftTypes> {
  readonly wire = raftWire;
  readonly #ctx: SimContext;
  readonly #preVote: boolean;
  readonly #lastRole = new Map<NodeId, string>();

  constructor(ctx: SimContext, options: { readonly preVote: boolean }) {
    this.#ctx = ctx;
    this.#preVote = options.preVote;
  }

  staleable(m: Message): boolean {
    return m.type === "appendEntries";
  }

  is(message: Message, kind: MessageKind): boolean {
    switch (kind) {
      case "vote":
        return message.type === "voteResponse" && message.granted && !message.preVote;
      case "ack":
        return message.type === "appendEntriesResponse" && message.success;
      case "append":
        return message.type === "appendEntries" && message.entries.length > 0;
      case "timeoutNow":
        return message.type === "timeoutNow";
      case "heartbeatAck":
        return message.type === "heartbeatResponse";
    }
  }

  commitOf(message: Message): number {
    return message.type === "appendEntries" || message.type === "heartbeat" ? message.commit : 0;
  }

  describe(m: Message, nameOf: (id: NodeId) => string): string {
    return describeMessage(m, nameOf);
  }

  recovered(m: Member, durable: DurableState): number {
    checkRecovery(this.#ctx.checker, m.name, m.mirror, durable);
    m.mirror = new DurableMirror(durable);
    // The node restores its snapshot, if any, and applies from the entry after it.
    return durable.snapshot?.meta.index ?? 0;
  }

  readyPersisted(m: Member, { write: ready }: EngineReady<RaftTypes>): void {
    m.mirror!.persisted(ready);
    this.#ctx.checker.observeDurableCommit(m.id, m.mirror!.hardState.commit);
  }

  readyStarted(m: Member, { write: ready }: EngineReady<RaftTypes>, raft: NodeView<RaftTypes>): void {
    const { checker } = this.#ctx;
    const log = raft.coreView();
    const { role, term, leader } = ready.softState;
    checker.observeRole(m.id, role, term, log);
    checker.observeAppend(m.id, ready.entries, log);
    const status = raft.status();
    checker.observeCommit(m.id, logIndex(status.commitIndex), status.appliedIndex, m.commitSeen === 0);
    const commit = ready.hardState?.commit ?? 0;
    // Only a commit index that moved while leading: one learned as a follower may be carried into
    // the first Ready of a term this member then won.
    const leading = role === "leader" && m.leadingTerm === term;
    m.leadingTerm = role === "leader" ? term : undefined;
    if (leading && commit > m.commitSeen && m.voters !== undefined) {
      checkCommitOnDurableQuorum(checker, {
        leader: m.name,
        term,
        commit,
        termAtCommit: log.termAt(logIndex(commit)),
        voters: m.voters,
        mirrorOf: (id) => this.#ctx.memberOf(id)?.mirror,
        nameOf: (id) => this.#ctx.nameOf(id),
      });
    }
    m.commitSeen = Math.max(m.commitSeen, commit, status.commitIndex);
    const config = raft.config();
    m.voters = {
      incoming: new Set(config.incoming),
      outgoing: config.outgoing === undefined ? undefined : new Set(config.outgoing),
    };
    if (this.#preVote) checkIsolatedTerm(checker, m, term, config);
    if (this.#ctx.tracing) this.#traceRole(m, role, term, leader);
  }

  #traceRole(m: Member, role: string, term: Term, leader: NodeId): void {
    const text = `${role} in term ${term}${leader !== NO_NODE && role !== "leader" ? ` (leader ${this.#ctx.nameOf(leader)})` : ""}`;
    if (this.#lastRole.get(m.id) === text) return;
    this.#lastRole.set(m.id, text);
    this.#ctx.trace(m.id, text);
  }

  /** Raft's applied entries need no more than the shared checks. */
  applied(): void {}

  sent(m: Member, message: Message): void {
    const { checker } = this.#ctx;
    if (message.type === "voteResponse" && message.granted && !message.preVote)
      checker.observeVote(m.id, message.term, message.to);
    if (m.mirror !== undefined) {
      checkDurableAck(checker, { member: m.name, message, mirror: m.mirror });
      checkConfigCommitDurable(checker, { member: m.name, message, mirror: m.mirror });
    }
  }
}
