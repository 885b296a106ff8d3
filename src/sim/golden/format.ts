import type { Config, NodeId, RawNode } from "../../raft/index.js";
import type { ScriptedCluster } from "../scripted.js";

/** Role and term, the two facts a role change line compares ("leader t4"). */
export function roleTerm(raw: RawNode): string {
  const s = raw.status();
  return `${s.role} t${s.term}`;
}

/** etcd's notation: `voters=(1 2 3)&&(1 2) learners=(4)`, the `&&` half only while joint. */
export function describeConfig(config: Config): string {
  const list = (ids: ReadonlySet<NodeId>): string => `(${[...ids].sort((a, b) => a - b).join(" ")})`;
  const outgoing = config.outgoing === undefined ? "" : `&&${list(config.outgoing)}`;
  const learners = config.learners.size === 0 ? "" : ` learners=${list(config.learners)}`;
  return `voters=${list(config.incoming)}${outgoing}${learners}`;
}

const ROLE_WIDTH = "preCandidate".length;

/** One line per node: role, term, commit, applied and the leader it follows, aligned for reading down. */
export function describeStatus(c: ScriptedCluster): string[] {
  return c.ids.map((id) => {
    const s = c.node(id).status();
    return `n${id} ${s.role.padEnd(ROLE_WIDTH)} t${s.term} commit=${s.commitIndex} applied=${s.appliedIndex} lead=${s.leader}`;
  });
}

/** One line per node: the term of each entry of its log, index 1 first (the shape of the paper's figures). */
export function describeLogs(c: ScriptedCluster): string[] {
  return c.ids.map((id) => {
    const terms = c.logTerms(id);
    return `n${id}: ${terms.length === 0 ? "(empty)" : terms.join(" ")}`;
  });
}

export function describeConfigs(c: ScriptedCluster): string[] {
  return c.ids.map((id) => `n${id}: ${describeConfig(c.node(id).config())}`);
}
