import type { Message, NodeId } from "../../raft/index.js";
import type { ScriptedCluster } from "../scripted.js";
import { describeMessage } from "../trace.js";
import { describeConfig, roleTerm } from "./format.js";

interface NodeView {
  roleTerm: string;
  config: string;
  reads: number;
}

const textDecoder = new TextDecoder();

/**
 * Turns what a ScriptedCluster does into trace lines: each message as it is delivered or dropped,
 * and after each step the role/term changes, configuration changes and ReadStates it caused.
 *
 * The cluster drops a cut message silently, so the recorder keeps its own copy of the queue: it
 * persists every Ready as soon as a step ends (the cluster would do so before its next delivery
 * anyway) and notes each message sent. A queued message that leaves the cluster's queue without
 * being delivered was dropped.
 */
export class TraceRecorder {
  readonly #cluster: ScriptedCluster;
  /** Messages sent and not yet delivered or dropped, in the cluster's queue order. */
  #queued: Message[] = [];
  readonly #noted = new WeakSet<Message>();
  readonly #views = new Map<NodeId, NodeView>();
  #lines: string[] = [];

  constructor(cluster: ScriptedCluster) {
    this.#cluster = cluster;
    cluster.afterStep = (m) => this.#afterStep(m);
    this.#observe();
  }

  /** The lines recorded since the last call, after noting what direct calls on nodes did since the last step. */
  take(): string[] {
    // Whatever left the cluster's queue since the last delivery was dropped.
    const inFlight = new Set(this.#cluster.inFlight);
    const kept = this.#queued.findIndex((m) => inFlight.has(m));
    this.#noteDropped(this.#queued.splice(0, kept < 0 ? this.#queued.length : kept));
    this.#observe();
    const lines = this.#lines;
    this.#lines = [];
    return lines;
  }

  #afterStep(m: Message | undefined): void {
    if (m !== undefined) {
      const at = this.#queued.indexOf(m);
      if (at < 0) throw new Error(`delivered a message the trace never saw sent: ${describeMessage(m)}`);
      // The cluster delivers in queue order, so whatever was ahead of `m` was dropped on the way.
      this.#noteDropped(this.#queued.splice(0, at + 1).slice(0, at));
      this.#lines.push(describeMessage(m));
    }
    this.#observe();
  }

  #noteDropped(messages: readonly Message[]): void {
    for (const m of messages) this.#lines.push(`${describeMessage(m)}  ✗ cut`);
  }

  #observe(): void {
    const c = this.#cluster;
    c.flush();
    for (const m of c.inFlight) {
      if (this.#noted.has(m)) continue;
      this.#noted.add(m);
      this.#queued.push(m);
    }
    for (const id of c.ids) this.#compare(id);
  }

  #compare(id: NodeId): void {
    const raw = this.#cluster.node(id);
    const reads = this.#cluster.readStates(id);
    const now: NodeView = { roleTerm: roleTerm(raw), config: describeConfig(raw.config()), reads: reads.length };
    const before = this.#views.get(id);
    this.#views.set(id, now);
    if (before === undefined) return;
    if (now.roleTerm !== before.roleTerm) this.#lines.push(`n${id}: ${before.roleTerm} → ${now.roleTerm}`);
    if (now.config !== before.config) this.#lines.push(`n${id}: config ${now.config}`);
    for (const read of reads.slice(before.reads)) {
      this.#lines.push(`n${id}: read ${textDecoder.decode(read.context)} at index ${read.index}`);
    }
  }
}
