import type { HardState } from "../../raft/index.js";
import { nodeId, term } from "../../util/ids.js";
import type { ScriptedOptions } from "../scripted.js";
import { fail, parseBoolean, parseCount, parseWords, type Case } from "./script.js";

type CoreOptions = NonNullable<ScriptedOptions["raft"]>;
type InitialState = NonNullable<ScriptedOptions["initial"]>[number];

/** The `cluster` command's names for the core options a scenario may set. */
const CORE_OPTIONS = new Map<string, (value: string) => CoreOptions>([
  ["prevote", (v) => ({ preVote: parseBoolean(v) })],
  ["checkquorum", (v) => ({ checkQuorum: parseBoolean(v) })],
  [
    "readonly",
    (v) => ({ readOnlyMode: v === "lease" ? "lease" : v === "safe" ? "safe" : fail(`readonly=${v}: safe or lease`) }),
  ],
  ["electionticks", (v) => ({ electionTicks: parseCount(v) })],
  ["heartbeatticks", (v) => ({ heartbeatTicks: parseCount(v) })],
  ["maxappend", (v) => ({ appendEntriesMax: parseCount(v) })],
]);

/**
 * `cluster nodes=N [joiners=N] [prevote=… checkquorum=… readonly=… electionticks=… heartbeatticks=… maxappend=…]`,
 * each input line giving one node's durable state to start from: `<id>: log=<term of each entry> [term=N] [vote=N]`.
 * Options not given keep the library's defaults (pre-vote and check-quorum on).
 */
export function clusterOptions(c: Case): ScriptedOptions {
  let nodes = 0;
  let joiners = 0;
  let raft: CoreOptions = {};
  for (const [key, value] of c.options) {
    if (key === "nodes") nodes = parseCount(value);
    else if (key === "joiners") joiners = parseCount(value);
    else raft = { ...raft, ...(CORE_OPTIONS.get(key) ?? fail(`unknown cluster option ${key}`))(value) };
  }
  if (nodes === 0) fail("cluster needs nodes=N");
  return { nodes, joiners, raft, initial: Object.fromEntries(c.input.map(parseInitialState)) };
}

function parseInitialState(line: string): [number, InitialState] {
  const match = /^(\d+):(.*)$/.exec(line);
  if (match === null) fail(`"${line}": expected <id>: log=… [term=N] [vote=N]`);
  const { options } = parseWords(match[2]!);
  const log = options.get("log") ?? fail(`"${line}": no log=`);
  const t = options.get("term");
  const vote = options.get("vote");
  const hardState: Partial<HardState> = {
    ...(t === undefined ? {} : { term: term(parseCount(t)) }),
    ...(vote === undefined ? {} : { vote: nodeId(parseCount(vote)) }),
  };
  return [parseCount(match[1]!), { terms: log.split(",").map(parseCount), hardState }];
}
