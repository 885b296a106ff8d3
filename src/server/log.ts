/**
 * Structured logs: one JSON object a line (pino), each with the member's name (`node`) and its
 * current Raft `term`. One line per role change, leader change, snapshot, compaction, membership
 * change, peer connect/disconnect and refusal to start; warnings from the transport; the fatal
 * storage error that stops a member.
 */
import { pino, type Logger } from "pino";
import type { ConfChange, ConfEntry, NodeId } from "../raft/index.js";
import { decodeMemberContext, type Node, type NodeObserver } from "../node/index.js";

export type { Logger } from "pino";

export const logLevels = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;
export type LogLevel = (typeof logLevels)[number];

export function isLogLevel(text: string): text is LogLevel {
  return (logLevels as readonly string[]).includes(text);
}

interface LoggerOptions {
  /** The member's name, on every line as `node`. */
  readonly node: string;
  readonly level: LogLevel;
  /** Where lines go; anything with a synchronous `write(line)`. Default: stdout. */
  readonly destination?: { write(line: string): unknown };
  /** The current term, on every line as `term` (omitted until it returns a number). */
  readonly term?: () => number | undefined;
}

/** A logger whose lines look like `{"level":"info","time":"…","node":"n1","term":3,"msg":"…"}`. */
export function createLogger(options: LoggerOptions): Logger {
  const term = options.term;
  return pino(
    {
      level: options.level,
      base: { node: options.node },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      mixin: () => {
        const t = term?.();
        return t === undefined ? {} : { term: t };
      },
    },
    options.destination ?? pino.destination({ dest: 1, sync: true }),
  );
}

/** A membership change in words, for logs and the dashboard. */
interface MembershipChange {
  /** `replace` for an entry of several changes at once. */
  readonly op: "bootstrap" | "addLearner" | "promote" | "remove" | "replace" | "leaveJoint";
  /** The member concerned; for a bootstrap, every voter. */
  readonly members: readonly string[];
  readonly text: string;
}

export function describeConfEntry(entry: ConfEntry, nameOf: (id: NodeId) => string): MembershipChange {
  switch (entry.op) {
    case "bootstrap": {
      const members = entry.voters.map(nameOf);
      return { op: "bootstrap", members, text: `cluster bootstrapped with voters ${members.join(", ")}` };
    }
    case "leaveJoint":
      return { op: "leaveJoint", members: [], text: "left the joint configuration: the change is complete" };
    case "simple":
    case "enterJoint": {
      const joint = entry.op === "enterJoint" ? " (joint consensus)" : "";
      const names = entry.changes.map((change) => decodeMemberContext(change.context)?.name ?? nameOf(change.id));
      const texts = entry.changes.map((change, k) => describeChange(change, names[k]!));
      const op = entry.changes.length === 1 ? entry.changes[0]!.type : "replace";
      return { op, members: names, text: `${texts.join(", ")}${joint}` };
    }
  }
}

function describeChange(change: ConfChange, name: string): string {
  switch (change.type) {
    case "addLearner":
      return `added ${name} as a learner at ${decodeMemberContext(change.context)?.peerAddr ?? "?"}`;
    case "promote":
      return `promoted ${name} to voter`;
    case "remove":
      return `removed ${name}`;
  }
}

/**
 * The node events worth a log line. `node()` is the member once created (the observer is handed
 * to createNode before the node exists), for names.
 */
export function logObserver(log: Logger, node: () => Node | undefined): NodeObserver {
  const nameOf = (id: NodeId): string => node()?.nameOf(id) ?? String(id);
  let role: string | undefined;
  return {
    roleChanged: (next, term) => {
      if (next === role) {
        log.debug({ role: next }, `term ${term}`);
        return;
      }
      log.info({ role: next, ...(role === undefined ? {} : { previousRole: role }) }, `became ${next} in term ${term}`);
      role = next;
    },
    leaderChanged: (leader) => log.info({ leader: nameOf(leader) }, `leader is ${nameOf(leader)}`),
    snapshot: ({ kind, index, bytes, seconds }) =>
      log.info(
        { snapshot: kind, index, bytes, seconds },
        kind === "taken" ? `snapshot taken at index ${index}` : `snapshot installed from the leader at index ${index}`,
      ),
    compacted: (index) => log.info({ compactedThrough: index }, `log compacted through index ${index}`),
    configApplied: (index, entry) => {
      const change = describeConfEntry(entry, nameOf);
      log.info({ index, membership: change.op, members: change.members }, `membership change: ${change.text}`);
    },
    fatal: (error) => log.fatal({ err: error.message }, `storage failure: ${error.message}; stopping`),
  };
}

/**
 * Polls the transport's peer connections and logs each connect and disconnect. Polling (every
 * `intervalMs`) keeps the transport free of logging; a flap shorter than that may go unseen.
 */
export function watchPeers(log: Logger, node: Node, intervalMs = 250): { check: () => void; stop: () => void } {
  const connected = new Set<NodeId>();
  const check = (): void => {
    const now = new Set<NodeId>();
    for (const p of node.transport.peers()) {
      if (p.state !== "connected") continue;
      now.add(p.id);
      if (!connected.has(p.id))
        log.info(
          { peer: node.nameOf(p.id), addr: `${p.address.host}:${p.address.port}` },
          `peer ${node.nameOf(p.id)} connected`,
        );
    }
    for (const id of connected)
      if (!now.has(id)) log.info({ peer: node.nameOf(id) }, `peer ${node.nameOf(id)} disconnected`);
    connected.clear();
    for (const id of now) connected.add(id);
  };
  const timer = setInterval(check, intervalMs);
  timer.unref();
  check();
  return { check, stop: () => clearInterval(timer) };
}

/** Several observers as one: each hook calls every observer that has it, in order. */
export function combineObservers(...observers: readonly NodeObserver[]): NodeObserver {
  const combined: Record<string, (...args: never[]) => void> = {};
  for (const observer of observers) {
    for (const [hook, fn] of Object.entries(observer) as [string, ((...args: never[]) => void) | undefined][]) {
      if (fn === undefined) continue;
      const previous = combined[hook];
      combined[hook] =
        previous === undefined
          ? fn
          : (...args: never[]) => {
              previous(...args);
              fn(...args);
            };
    }
  }
  return combined;
}
