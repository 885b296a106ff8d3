import type { EngineEntry, EngineReady } from "../engine/engine.js";
import { zabCodec, zxidOfTag, type ZabDurable, type ZabTypes } from "../engine/zab.js";
import type { NodeView } from "../node/index.js";
import type { NodeId } from "../raft/index.js";
import { engineWire } from "../transport/index.js";
import { logIndex } from "../util/ids.js";
import {
  checkAcknowledgedDurable,
  checkCommittedDurable,
  checkDelivery,
  checkLeaderCompleteness,
  checkOneLeaderPerEpoch,
  createDeliveryLedger,
  formatZxid,
  zxidEqual,
  type DeliveryLedger,
  type Epoch,
  type HistoryEntry,
  type Txn,
  type ZabMessage,
} from "../zab/index.js";
import type { ViolationKind } from "./checkers.js";
import type { Member } from "./member.js";
import type { MessageKind, SimContext, SimEngine } from "./sim_engine.js";
import { ExhaustedEpochs } from "./zab_exhaustion.js";
import { positionOf } from "./zab_positions.js";

/** What a member's disk holds as far as the checks know: grown in place, write by write. */
interface DiskMirror {
  acceptedEpoch: Epoch;
  currentEpoch: Epoch;
  readonly history: Txn[];
}

/** Per member: its disk, what it delivered last in this life, and its core as last seen. */
interface ZabMember {
  disk: DiskMirror;
  previous: HistoryEntry | undefined;
  view: ZabTypes["view"] | undefined;
  firstInLife: boolean;
  /** The epoch and phase it led in at its last Ready ("" when not leading past discovery). */
  leading: string;
}

/**
 * ZAB in the simulator. Its own checks (src/zab/safety.ts), besides the shared ones (state machine
 * safety, linearizability): primary order and one delivery order (every delivery, against a
 * ledger of everything delivered); a delivered transaction is durable on a quorum; ACKEPOCH, Ack
 * and Pong promise only what is on the sender's disk; one leader per epoch, and a leader that has
 * established its epoch holds every transaction committed in an earlier one (checked when it
 * establishes, and again as it reaches broadcast); a restart recovers at least what was synced.
 */
export class ZabSim implements SimEngine<ZabTypes> {
  readonly wire = engineWire(zabCodec);
  readonly #ctx: SimContext;
  readonly #quorum: number;
  readonly #ledger: DeliveryLedger = createDeliveryLedger();
  readonly #members = new Map<NodeId, ZabMember>();
  readonly #exhausted: ExhaustedEpochs;

  constructor(ctx: SimContext, options: { readonly memberCount: number; readonly counterBits: number | undefined }) {
    this.#ctx = ctx;
    this.#quorum = Math.floor(options.memberCount / 2) + 1;
    this.#exhausted = new ExhaustedEpochs(options.counterBits);
  }

  /** An epoch whose counter ran out ended by design: ZooKeeper must start a new one. */
  reignEndedByDesign(reign: number): boolean {
    return this.#exhausted.has(reign);
  }

  staleable(m: ZabMessage): boolean {
    return m.type === "proposal" && m.txns.length > 0;
  }

  is(m: ZabMessage, kind: MessageKind): boolean {
    switch (kind) {
      case "vote":
        return m.type === "ackEpoch";
      case "ack":
        return m.type === "ack";
      case "append":
        return m.type === "proposal" && m.txns.length > 0;
      case "timeoutNow":
        return false;
      case "heartbeatAck":
        return m.type === "pong";
    }
  }

  /** The history position of the commit point a Commit or Ping announces, in its sender's history. */
  commitOf(m: ZabMessage): number {
    if (m.type !== "commit" && m.type !== "ping") return 0;
    const view = this.#members.get(m.from)?.view;
    return view === undefined ? 0 : positionOf(view, m.type === "commit" ? m.zxid : m.committedZxid);
  }

  describe(m: ZabMessage, nameOf: (id: NodeId) => string): string {
    const head = `${m.type} ${nameOf(m.from)}→${nameOf(m.to)}`;
    switch (m.type) {
      case "notification":
        return `${head} ${m.state} round=${m.round} for ${nameOf(m.vote.leader)}@${m.vote.epoch}/${formatZxid(m.vote.zxid)}`;
      case "followerInfo":
        return `${head} accepted=${m.acceptedEpoch}`;
      case "ackEpoch":
        return `${head} ${m.epoch} promised=${m.promised} current=${m.currentEpoch} last=${formatZxid(m.lastZxid)}`;
      case "newLeader":
      case "proposal":
        return `${head} ${m.epoch} after ${formatZxid(m.prevZxid)}: ${m.txns.map((t) => formatZxid(t.zxid)).join(",")}`;
      case "ack":
      case "commit":
        return `${head} ${m.epoch} ${formatZxid(m.zxid)}`;
      case "ping":
        return `${head} ${m.epoch} committed=${formatZxid(m.committedZxid)} round=${m.round}`;
      case "pong":
        return `${head} ${m.epoch} last=${formatZxid(m.lastZxid)} durable=${formatZxid(m.durableZxid)}`;
      case "newEpoch":
      case "syncResponse":
        return `${head} ${m.epoch}`;
      case "syncRequest":
      case "forward":
        return head;
    }
  }

  /**
   * A restart must find its epochs no lower than synced, and every transaction delivered anywhere
   * that its synced history held; a write in flight at the crash may have landed, so what it
   * recovered is its disk from now on. It applies its history again from the start.
   */
  recovered(m: Member, durable: ZabDurable): number {
    const before = this.#members.get(m.id)?.disk;
    if (before !== undefined) {
      if (durable.acceptedEpoch < before.acceptedEpoch || durable.currentEpoch < before.currentEpoch)
        this.#fail(
          "zabDurability",
          `${m.name} recovered epochs ${durable.acceptedEpoch}/${durable.currentEpoch}, below its synced ${before.acceptedEpoch}/${before.currentEpoch}`,
        );
      const agreed = this.#ledger.agreed;
      for (let k = 0; k < Math.min(agreed.length, before.history.length); k++) {
        const delivered = agreed[k]!.zxid;
        if (!zxidEqual(before.history[k]!.zxid, delivered)) continue;
        const found = durable.history[k];
        if (found === undefined || !zxidEqual(found.zxid, delivered))
          this.#fail("zabDurability", `${m.name} lost the delivered ${formatZxid(delivered)} at ${k + 1} in a restart`);
      }
    }
    const disk = {
      acceptedEpoch: durable.acceptedEpoch,
      currentEpoch: durable.currentEpoch,
      history: [...durable.history],
    };
    this.#members.set(m.id, { disk, previous: undefined, view: undefined, firstInLife: true, leading: "" });
    this.#exhausted.restarted(m.id);
    return 0;
  }

  readyStarted(m: Member, { write }: EngineReady<ZabTypes>, node: NodeView<ZabTypes>): void {
    const member = this.#members.get(m.id)!;
    const status = node.status();
    this.#ctx.checker.observeCommit(m.id, logIndex(status.commitIndex), status.appliedIndex, member.firstInLife);
    member.firstInLife = false;
    const view = node.coreView();
    member.view = view;
    const soft = write.softState;
    this.#exhausted.observe(m.id, soft, node);
    const leading = soft.role === "leading" && soft.phase !== "discovery" ? `${soft.epoch}/${soft.phase}` : "";
    if (leading === member.leading) return;
    member.leading = leading;
    if (leading === "") return;
    this.#check("zabLeaderCompleteness", checkOneLeaderPerEpoch(this.#ledger, view));
    this.#check("zabLeaderCompleteness", checkLeaderCompleteness(this.#ledger, view));
  }

  readyPersisted(m: Member, { write }: EngineReady<ZabTypes>): void {
    const disk = this.#members.get(m.id)!.disk;
    const { truncateAfter, entries } = write.history;
    if (truncateAfter !== undefined) disk.history.length = Math.min(disk.history.length, truncateAfter);
    for (const entry of entries) disk.history[entry.index - 1] = { zxid: entry.zxid, data: entry.data };
    if (write.epochs !== undefined) {
      disk.acceptedEpoch = write.epochs.acceptedEpoch;
      disk.currentEpoch = write.epochs.currentEpoch;
    }
  }

  applied(m: Member, entries: readonly EngineEntry[]): void {
    const member = this.#members.get(m.id)!;
    const currentEpoch = member.view?.currentEpoch() ?? member.disk.currentEpoch;
    for (const e of entries) {
      const entry: HistoryEntry = { index: e.index, zxid: zxidOfTag(e.tag as number), data: e.data };
      const problem = checkDelivery(this.#ledger, { entry, previous: member.previous, currentEpoch });
      if (problem !== undefined)
        this.#fail(problem.startsWith("primary order") ? "zabPrimaryOrder" : "zabDelivery", problem);
      member.previous = entry;
      const disks = [...this.#members.values()].map((other) => other.disk);
      this.#check("zabDurability", checkCommittedDurable(entry, disks, this.#quorum));
    }
  }

  /** ACKEPOCH, Ack and Pong promise what is on the sender's disk: it must be there when they leave. */
  sent(m: Member, message: ZabMessage): void {
    const disk = this.#members.get(m.id)?.disk;
    if (disk !== undefined) this.#check("zabDurability", checkAcknowledgedDurable(disk, message));
  }

  #check(kind: ViolationKind, problem: string | undefined): void {
    if (problem !== undefined) this.#fail(kind, problem);
  }

  #fail(kind: ViolationKind, message: string): void {
    this.#ctx.checker.fail(kind, message);
  }
}
