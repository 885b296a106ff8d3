import type { Message, NodeId } from "../raft/index.js";
import { assertNever } from "../util/assert.js";

/** Receives one readable line per notable event when a run is traced; `member` is a name ("n2"). */
export type Tracer = (time: number, member: string | undefined, text: string) => void;

export function consoleTracer(write: (line: string) => void): Tracer {
  return (time, member, text) => write(`${time.toFixed(1).padStart(9)}ms ${(member ?? "").padEnd(3)} ${text}`);
}

/** One line for a message; `nameOf` turns node ids into member names (the numbers themselves by default). */
export function describeMessage(m: Message, nameOf: (id: NodeId) => string = String): string {
  const head = `${m.type} ${nameOf(m.from)}→${nameOf(m.to)} t${m.term}`;
  switch (m.type) {
    case "voteRequest":
      return `${head}${m.preVote ? " pre" : ""}${m.transfer ? " transfer" : ""} last=${m.lastLogIndex}/t${m.lastLogTerm}`;
    case "voteResponse":
      return `${head}${m.preVote ? " pre" : ""} ${m.granted ? "granted" : "rejected"}`;
    case "appendEntries": {
      const range = m.entries.length === 0 ? "none" : `${m.entries[0]!.index}..${m.entries.at(-1)!.index}`;
      return `${head} prev=${m.prevLogIndex}/t${m.prevLogTerm} entries=${range} commit=${m.commit}`;
    }
    case "appendEntriesResponse":
      return m.success
        ? `${head} ok match=${m.matchIndex}`
        : `${head} reject ${m.rejectedIndex} hint=${m.hintIndex}/t${m.hintTerm}`;
    case "heartbeat":
      return `${head} commit=${m.commit}${m.context ? ` read#${m.context}` : ""}`;
    case "heartbeatResponse":
      return `${head}${m.context ? ` read#${m.context}` : ""}`;
    case "installSnapshot":
      return `${head} snapshot@${m.snapshot.meta.index}/t${m.snapshot.meta.term}`;
    case "propose":
      return `${head} ${m.data.length} item(s)`;
    case "readIndexRequest":
      return head;
    case "timeoutNow":
      return `${head} commit=${m.commit}`;
    case "readIndexResponse":
      return `${head} index=${m.index}`;
    default:
      return assertNever(m, "message");
  }
}
