import { createWatchService, Lessor, type WatchHub, type WatchService } from "../coord/index.js";
import type { KvStore } from "../kv/index.js";
import type { Clock } from "../node/index.js";
import type { NodeId } from "../raft/index.js";
import type { Prng } from "../util/prng.js";
import type { MemberLife, MemberServices, MemberStart } from "./member_services.js";

/** How a run tunes the coordination services: small bounds, so that compactions and slow cancels happen. */
export interface CoordTuning {
  readonly bufferEventsMax: number;
  readonly progressIntervalMs: number;
  readonly historyRevisionsMax: number;
  readonly revokesPerSecond: number;
  readonly checkpointIntervalMs: number;
  readonly checkIntervalMs: number;
}

/** What the checks hear of each member's store and lessor. */
interface CoordObserver {
  /** A life's store, before its node replays anything into it. */
  store(member: NodeId, kv: KvStore): void;
  promoted(member: NodeId, view: LessorView, term: number): void;
  expiring(member: NodeId, id: number): void;
}

/** A lessor with what its checks compare it with: its member's store and clock. */
export interface LessorView {
  readonly lessor: Lessor;
  readonly kv: KvStore;
  readonly clock: Clock;
}

interface Running {
  readonly watch: WatchService;
  readonly lessor: Lessor;
}

/**
 * A member's coordination services, one set per life, as `raftkv serve` runs them: the watch hub
 * listens to the store from before the node replays its log (ClusterOptions.beforeStart), the
 * compactor and the lessor start once the node is up (ClusterOptions.services), and a crash ends
 * them all (a watch stream's `stopping` then goes nowhere: the process is gone).
 */
export class CoordMembers {
  readonly #tuning: CoordTuning;
  readonly #electionTimeoutMs: number;
  readonly #random: Prng;
  readonly #observer: CoordObserver;
  /** The watch service each member's newest life created, until its node is up. */
  readonly #starting = new Map<NodeId, WatchService>();
  readonly #running = new Map<NodeId, Running>();

  constructor(options: { tuning: CoordTuning; electionTimeoutMs: number; random: Prng; observer: CoordObserver }) {
    this.#tuning = options.tuning;
    this.#electionTimeoutMs = options.electionTimeoutMs;
    this.#random = options.random;
    this.#observer = options.observer;
  }

  get tuning(): CoordTuning {
    return this.#tuning;
  }

  readonly beforeStart = (start: MemberStart): void => {
    const kv = start.kv!;
    this.#observer.store(start.id, kv);
    const t = this.#tuning;
    const watch = createWatchService({
      kv,
      clock: start.clock,
      bufferEventsMax: t.bufferEventsMax,
      progressIntervalMs: t.progressIntervalMs,
      historyRevisionsMax: t.historyRevisionsMax,
    });
    this.#starting.set(start.id, watch);
  };

  readonly services = (life: MemberLife): MemberServices => {
    const { id, clock } = life;
    const kv = life.kv!;
    const watch = this.#starting.get(id)!;
    this.#starting.delete(id);
    watch.startCompactor(life.node.raft);
    const t = this.#tuning;
    const lessor: Lessor = new Lessor({
      kv,
      node: life.node.raft,
      clock,
      electionTimeoutMs: this.#electionTimeoutMs,
      random: () => this.#random.next(),
      revokesPerSecond: t.revokesPerSecond,
      checkpointIntervalMs: t.checkpointIntervalMs,
      checkIntervalMs: t.checkIntervalMs,
      observer: {
        promoted: (term) => this.#observer.promoted(id, { lessor, kv, clock }, term),
        expiring: (lease) => this.#observer.expiring(id, lease),
      },
    });
    const running: Running = { watch, lessor };
    this.#running.set(id, running);
    return {
      close: () => {
        if (this.#running.get(id) === running) this.#running.delete(id);
        lessor.close();
        watch.close();
      },
    };
  };

  /** Member `id`'s watch hub, while its node is up. */
  hub(id: NodeId): WatchHub | undefined {
    return this.#running.get(id)?.watch.hub;
  }

  /** Member `id`'s lessor, while its node is up. */
  lessor(id: NodeId): Lessor | undefined {
    return this.#running.get(id)?.lessor;
  }

  /** Ends every watch on member `id` with `stopping`, as `raftkv serve` does on SIGTERM before it stops. */
  stopWatches(id: NodeId): void {
    this.#running.get(id)?.watch.close();
  }
}
