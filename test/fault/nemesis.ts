/**
 * The nemesis: applies one scheduled fault to the running cluster, holds it, heals it. Never more
 * than a minority is killed, paused or cut off at once, so the majority can always serve and the
 * unavailability after a leader's death measures failover, not a lost quorum.
 */
import type { Member, ProcessCluster } from "../harness.js";
import { statusOf } from "../harness.js";
import type { PeerProxy } from "./proxy.js";
import { partitionOf, type FaultKind, type FaultStep } from "./schedule.js";

export interface LeaderKill {
  /** The history clock when the leader was killed. */
  readonly at: number;
  readonly leader: string;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export class Nemesis {
  readonly #cluster: ProcessCluster;
  readonly #proxy: PeerProxy;
  readonly #clock: () => number;
  readonly #log: (line: string) => void;
  readonly #paused = new Set<string>();
  readonly counts = new Map<FaultKind, number>();
  readonly leaderKills: LeaderKill[] = [];

  constructor(cluster: ProcessCluster, proxy: PeerProxy, clock: () => number, log: (line: string) => void) {
    this.#cluster = cluster;
    this.#proxy = proxy;
    this.#clock = clock;
    this.#log = log;
  }

  /** Applies `step`, holds it for its time, heals it and waits out its quiet gap. */
  async run(step: FaultStep): Promise<void> {
    this.counts.set(step.kind, (this.counts.get(step.kind) ?? 0) + 1);
    const names = step.order;
    // Asked for every kind: kills must know whether they hit the leader, and the log says so for all.
    const leader = await this.leader();
    const leaderOr = (fallback: string): string => {
      if (leader === undefined) this.#log(`no agreed leader; ${step.kind} takes ${fallback}`);
      return leader ?? fallback;
    };
    switch (step.kind) {
      case "kill-leader":
        await this.#kill([leaderOr(names[0]!)], leader);
        break;
      case "kill-minority":
        await this.#kill(names.slice(0, step.count), leader);
        break;
      case "pause-leader":
        this.#pause(leaderOr(names[0]!), leader);
        break;
      case "pause-node":
        this.#pause(names[0]!, leader);
        break;
      case "isolate-leader":
      case "isolate-node": {
        const target = step.kind === "isolate-leader" ? leaderOr(names[0]!) : names[0]!;
        this.#proxy.separate(
          [target],
          names.filter((n) => n !== target),
        );
        this.#log(`${step.kind}: ${target}${target === leader ? " (leader)" : ""} cut off from the others`);
        break;
      }
      case "partition-halves":
      case "bridge": {
        const { sides, bridge } = partitionOf(step);
        this.#proxy.separate(sides[0]!, sides[1]!);
        const mark = (n: string): string => (n === leader ? `${n} (leader)` : n);
        const shown = sides.map((s) => `{${s.map(mark).join(", ")}}`);
        this.#log(
          `${step.kind}: ${bridge === undefined ? shown.join(" | ") : `${shown[0]} | ${mark(bridge)} | ${shown[1]} (${bridge} sees both)`}`,
        );
        break;
      }
    }
    await sleep(step.holdMs);
    await this.healAll();
    await sleep(step.gapMs);
  }

  /** Heals every fault: links restored, paused members continued, killed members restarted. */
  async healAll(): Promise<void> {
    const healed: string[] = [];
    if (this.#proxy.cutLinks().length > 0) healed.push("links restored");
    this.#proxy.heal();
    for (const name of this.#paused) {
      this.#cluster.member(name).process?.kill("SIGCONT");
      healed.push(`SIGCONT ${name}`);
    }
    this.#paused.clear();
    for (const m of this.#cluster.members) {
      if (m.process !== undefined) continue;
      await this.#proxy.up(m.name);
      this.#cluster.startMember(m.name);
      healed.push(`restarted ${m.name}`);
    }
    if (healed.length > 0) this.#log(`healed: ${healed.join(", ")}`);
  }

  /** The member that a majority of the live, unpaused members name as leader, if one is agreed soon. */
  async leader(timeoutMs = 5_000): Promise<string | undefined> {
    const deadline = Date.now() + timeoutMs;
    const live = this.#cluster.members.filter((m) => m.process !== undefined && !this.#paused.has(m.name));
    const majority = Math.floor(this.#cluster.members.length / 2) + 1;
    while (Date.now() < deadline) {
      const named = await Promise.all(live.map((m) => this.#leaderSeenBy(m)));
      const votes = new Map<string, number>();
      for (const n of named) if (n !== undefined) votes.set(n, (votes.get(n) ?? 0) + 1);
      for (const [name, count] of votes) if (count >= majority && live.some((m) => m.name === name)) return name;
      await sleep(50);
    }
    return undefined;
  }

  async #leaderSeenBy(m: Member): Promise<string | undefined> {
    try {
      return (await statusOf(m)).leader ?? undefined;
    } catch {
      return undefined;
    }
  }

  async #kill(names: readonly string[], leader: string | undefined): Promise<void> {
    const at = this.#clock();
    await Promise.all(names.map((n) => this.#cluster.stopMember(n, "SIGKILL")));
    await Promise.all(names.map((n) => this.#proxy.down(n)));
    if (leader !== undefined && names.includes(leader)) this.leaderKills.push({ at, leader });
    this.#log(`SIGKILL ${names.map((n) => (n === leader ? `${n} (leader)` : n)).join(", ")}`);
  }

  #pause(name: string, leader: string | undefined): void {
    this.#cluster.member(name).process?.kill("SIGSTOP");
    this.#paused.add(name);
    this.#log(`SIGSTOP ${name}${name === leader ? " (leader)" : ""}`);
  }
}
